"""Raw-event builders and canonicalize() helpers shared by normalize's unit tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from cchc_normalize.steps.canonicalize import Reference, Rejected, canonicalize
from cchc_shared.canonical import DossierRecord, Observation
from cchc_shared.hotpath import is_a

from tests import events

# A fixed "today" after every period the tests use, so that no test depends on the clock.
TODAY = date(2026, 11, 20)


def report(**fields: Any) -> dict[str, Any]:
    """A valid `cchc.indicator_report/1` (Sơn La, seed 001), with `fields` replaced or added.

    A field set to ``None`` is removed, so that a test can drop an optional field.
    """
    return {k: v for k, v in events.report(**fields).items() if v is not None}


def dossier_event(**fields: Any) -> dict[str, Any]:
    """A valid `received` `cchc.dossier_event/1` of the post-merger Lào Cai (15)."""
    return {k: v for k, v in events.dossier_event(**fields).items() if v is not None}


def run(ref: Reference, event: dict[str, Any], today: date = TODAY) -> Any:
    """canonicalize() on the JSON bytes of `event`, as normalize receives them."""
    return canonicalize(orjson.dumps(event), ref, today)


def accepted(ref: Reference, event: dict[str, Any], today: date = TODAY) -> Observation:
    """The observation `event` gives; fails the test with the reason if it was rejected."""
    result = run(ref, event, today)
    assert is_a(result, Observation), result
    return result


def accepted_dossier(ref: Reference, event: dict[str, Any]) -> DossierRecord:
    """The dossier record `event` gives; fails the test with the reason if it was rejected."""
    result = run(ref, event)
    assert is_a(result, DossierRecord), result
    return result


def rejected(ref: Reference, event: dict[str, Any], today: date = TODAY) -> Rejected:
    """The rejection `event` gives; fails the test if it was accepted."""
    result = run(ref, event, today)
    assert isinstance(result, Rejected), result
    return result
