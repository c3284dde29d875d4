"""to_columns: every kind of canonical record, mixed in one batch, lands in its table's columns
with the values the pydantic model reads from the same JSON."""

from __future__ import annotations

import orjson
from cchc_aggregate.sink.rows import _TEXT_OPTIONAL, TABLES, to_columns, version
from cchc_normalize.steps.canonicalize import Reference, canonicalize
from cchc_shared.canonical import CANONICAL_RECORD, Observation
from cchc_shared.hotpath import encoder

from tests import events
from tests.unit.normalize.builders import TODAY

KIND_TABLE = {
    "observation": "observations",
    "dossier": "dossier_events",
    "feedback": "feedback_events",
    "procedure": "procedure_events",
}


def test_every_kind_goes_to_its_table_in_one_batch() -> None:
    ref = Reference.load()
    raw = [
        events.feedback_event(),
        events.report(),
        events.procedure_event(),
        events.dossier_event(),
        events.feedback_event(event_id="f-2", feedback_id="F-2", agency="Sở Nội vụ"),
        events.procedure_event(event_id="p-2", action="announced", complete=None, online=None),
    ]
    raw = [{k: v for k, v in e.items() if v is not None} for e in raw]
    encode = encoder()
    payloads = [encode(canonicalize(orjson.dumps(e), ref, TODAY)) for e in raw]
    items = [(p, 1_700_000_000_000 + i) for i, p in enumerate(payloads)]
    items.insert(3, (b'{"kind": "feedback"}', 5))  # refused: listed by its index, no row
    columns = to_columns(items)

    assert [i for i, _ in columns.invalid] == [3]
    expected: dict[str, list[int]] = {t: [] for t in TABLES}
    for index, (payload, _) in enumerate(items):
        if index != 3:
            expected[KIND_TABLE[orjson.loads(payload)["kind"]]].append(index)
    for table, rows, indices in columns.tables():
        assert indices == expected[table], table
        assert set(rows) == set(TABLES[table]), table
        for row, index in enumerate(indices):
            model = CANONICAL_RECORD.validate_json(items[index][0])
            for name in TABLES[table]:
                got = rows[name][row]
                if name == "kafka_ts":
                    assert got == items[index][1]
                elif name == "version":
                    assert isinstance(model, Observation)
                    assert got == version(model.revision, model.reported_at)
                else:
                    want = getattr(model, name)
                    assert got == ("" if want is None and name in _TEXT_OPTIONAL else want), name
    assert len(columns.feedback["event_id"]) == 2
    assert len(columns.procedures["event_id"]) == 2
    assert columns.procedures["online"] == ["full", ""]
