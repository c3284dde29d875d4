"""The dry run: ingest's checks, then normalize's, with the stage that would reject."""

from __future__ import annotations

import orjson
from cchc_ingest.steps.dry_run import Verdict, dry_run, own_province
from cchc_normalize.steps.canonicalize import Reference
from cchc_shared.dlq import Reason
from cchc_shared.reasons import describe

from tests import events
from tests.unit.normalize.builders import TODAY

REF = Reference.load()


def check(event: object, province: str = "14") -> Verdict:
    return dry_run(orjson.dumps(event), province, REF, TODAY)


def test_a_good_report_and_a_good_dossier_event_pass() -> None:
    assert check(events.report()).accepted
    assert check(events.dossier_event(), "15").accepted
    assert check(events.report()).as_json(3) == {
        "line": 3,
        "status": "accepted",
        "stage": None,
        "reason": None,
        "errors": [],
    }


def test_ingest_reasons_come_first() -> None:
    assert dry_run(b"{oops", "14", REF, TODAY).reason is Reason.MALFORMED_JSON
    assert check(events.report(schema="x")).reason is Reason.UNKNOWN_SCHEMA
    verdict = check(events.report(), "15")
    assert (verdict.stage, verdict.reason) == ("ingest", Reason.PROVINCE_MISMATCH)


def test_normalize_reasons_follow() -> None:
    verdict = check(events.report(value="1.5"))
    assert (verdict.stage, verdict.reason) == ("normalize", Reason.BAD_NUMBER)
    assert verdict.errors[0].loc == "value"
    assert check(events.report(period="2099")).reason is Reason.FUTURE_PERIOD
    assert check(events.report(indicator="nope")).reason is Reason.UNKNOWN_INDICATOR
    unknown = check(events.dossier_event(commune_code="99999"), "15")
    assert unknown.reason is Reason.UNKNOWN_COMMUNE
    answer = unknown.as_json(1)
    assert answer["status"] == "rejected"
    info = describe(Reason.UNKNOWN_COMMUNE)
    assert (answer["meaning_vi"], answer["fix_vi"]) == (info.vi_meaning, info.vi_fix)


def test_own_province_routes_as_cchc_push_does() -> None:
    registry = REF.provinces
    assert own_province(orjson.dumps(events.report()), registry) == "14"
    # Old Yên Bái (15, until the merger) belongs to today's Lào Cai (15); old Lào Cai (10) too.
    assert own_province(orjson.dumps(events.report(province="Yên Bái")), registry) == "15"
    assert own_province(orjson.dumps(events.report(province="10")), registry) == "15"
    assert own_province(orjson.dumps(events.report(province="Atlantis")), registry) == ""
    assert own_province(b"[1]", registry) == ""
    assert own_province(b"{oops", registry) == ""
