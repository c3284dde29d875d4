"""The msgspec hot path against the pydantic contract, for every schema of both unions.

Events are drawn from each model's own exported JSON Schema (not from the Structs under test),
then mutated: a field dropped, retyped, set to an edge value (a 65-character string, an integer
beyond 64 bits, a naive or oddly written timestamp …), an unknown field added. For every input:

* msgspec alone never accepts what pydantic rejects, and what it accepts has pydantic's values;
* through the hot decoder, ingest's ``validate()`` and normalize's ``canonicalize()`` give the
  same verdict, reason code and error locations (and messages) as with pydantic alone.

The schemas come from the unions in ``cchc_shared.events`` / ``cchc_shared.canonical``: a schema
or field added there is generated here without an edit, and a model the hot path cannot mirror
fails at import.
"""

from __future__ import annotations

import itertools
import json
import re
import typing
from datetime import date
from typing import Any

import msgspec
import pytest
from cchc_bench.events import EventFactory, generate
from cchc_ingest.steps import validate as ingest_validate
from cchc_normalize.steps import canonicalize as normalize_canonicalize
from cchc_normalize.steps.canonicalize import Reference
from cchc_shared import events, hotpath
from cchc_shared.canonical import CANONICAL_HOT, CANONICAL_RECORD, CanonicalRecord
from cchc_shared.catalogue import default_catalogue
from cchc_shared.events import RAW_EVENT, RAW_EVENT_HOT, SCHEMAS, RawEvent
from cchc_shared.hotpath import HotDecoder, fields, struct_of, union_members
from cchc_shared.provinces import default_registry
from cchc_shared.validation import Rejected
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

TODAY = date(2026, 11, 20)
REF = Reference.load()
REGISTRY = default_registry()

RAW_MODELS, RAW_TAG = union_members(RawEvent)
CANONICAL_MODELS, CANONICAL_TAG = union_members(CanonicalRecord)

TIMESTAMPS = st.sampled_from(
    [
        "2025-06-30T20:00:00Z",
        "2025-06-30T23:59:59+07:00",
        "2024-02-29T08:15:30.123456+07:00",
        "2026-01-01T00:00:00-00:00",
        "2025-07-01T07:00:00",  # naive
        "2025-07-01t07:00:00z",
        "2025-07-01 07:00:00+07:00",
        "2025-07-01T07:00+07:00",
        "2025-07-01T07:00:00.1234567+07:00",
        "2025-07-01T07:00:00.999999999Z",
        "2025-07-01T07:00:00,5+07:00",
        "2016-12-31T23:59:60Z",
        "2025-07-01T24:00:00Z",
        "2025-07-01T07:00:00+24:00",
        "2025-07-01T07:00:00+07:00:00",
        "2025-07-01T07:00:00.+07:00",
        "+2025-07-01T07:00:00Z",
        "2025-07-01T07:00:00+0700",
        "2025-07-01",
        "2025-13-01T00:00:00Z",
        "1700000000",
        "",
    ]
) | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
DATES = st.sampled_from(
    ["2025-01-01", "2025-12-31", "2025-02-30", "2025-1-1", "x"]
) | st.dates().map(str)
EDGE_VALUES: st.SearchStrategy[Any] = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        -1,
        1,
        1_000_000,
        1_000_001,
        2**63,
        -(2**64),
        10**30,
        1.0,
        0.5,
        -0.0,
        1e308,
        "",
        " ",
        "15",
        "1.502,5",
        "x" * 64,
        "x" * 65,
        "x" * 129,
        "y" * 4097,
        "received",
        "rated",
        "all",
        "00004",
        "0004",
        "2025-06-30T20:00:00Z",
        "2025-06-30T20:00:00",
        [],
        {},
        {"title": "t"},
        {"url": None, "extra": 1},
    ]
)


def _from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value of a (pydantic-exported) JSON Schema; rules outside it (if/then, the models'
    cross-field checks) are left to chance and to the mutations."""
    if "$ref" in schema:
        return st.deferred(lambda: _from_schema(defs[schema["$ref"].rsplit("/", 1)[1]], defs))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema and "type" not in schema:  # an object's anyOf is a cross-field rule
        return st.one_of([_from_schema(s, defs) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "date-time":
            return TIMESTAMPS
        if schema.get("format") == "date":
            return DATES
        if "pattern" in schema:
            return st.from_regex(re.compile(schema["pattern"]), fullmatch=True).filter(
                lambda s: len(s) <= schema.get("maxLength", 10**9)
            )
        return st.text(
            min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 40)
        )
    if kind == "integer":
        return st.integers(
            min_value=schema.get("minimum"), max_value=schema.get("maximum", 10**6 + 5)
        )
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers()
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: _from_schema(v, defs) for k, v in props.items() if k in required},
            optional={k: _from_schema(v, defs) for k, v in props.items() if k not in required},
        )
    raise AssertionError(f"no strategy for {schema!r}")


def _model_events(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True)
    return _from_schema(schema, schema.get("$defs", {}))


def _valid_seeds() -> dict[str, list[dict[str, Any]]]:
    """Valid events of the schemas the benchmark knows (drawn events are mostly invalid
    already, so mutations of valid ones reach the paths where only the text is wrong)."""
    factory = EventFactory(REGISTRY, default_catalogue(), "seed", 3)
    seeds: dict[str, list[dict[str, Any]]] = {}
    for _, _, value in generate(factory, 300, key_indices=itertools.count()):
        event = json.loads(value)
        seeds.setdefault(event["schema"], []).append(event)
    return seeds


SEEDS = _valid_seeds()


def _tag_value(model: type[BaseModel]) -> Any:
    (value,) = typing.get_args(model.model_fields[RAW_TAG].annotation)
    return value


@st.composite
def _mutated(draw: st.DrawFn, model: type[BaseModel]) -> bytes:
    drawn = _model_events(model)
    seeds = SEEDS.get(_tag_value(model), []) if model in RAW_MODELS else []
    event = dict(draw(st.sampled_from(seeds) | drawn if seeds else drawn))
    keys = [f.alias or n for n, f in model.model_fields.items()]
    for _ in range(draw(st.integers(0, 3))):
        match draw(st.sampled_from(["drop", "set", "extra", "keep"])):
            case "drop" if event:
                event.pop(draw(st.sampled_from(sorted(event))), None)
            case "set":
                key = draw(st.sampled_from(keys))
                event[key] = draw(EDGE_VALUES | TIMESTAMPS | st.integers() | st.floats())
            case "extra":
                event[draw(st.sampled_from(["extra", "Schema", "event-id", "kind"]))] = 1
    # The standard library writes NaN, Infinity and integers beyond 64 bits, as a bad producer
    # might; the decoders must agree on those too.
    text = json.dumps(event, ensure_ascii=False, separators=draw(SEPARATORS))
    return draw(_text_mutation(text)).encode("utf-8", "surrogatepass")


SEPARATORS = st.sampled_from([(",", ":"), (", ", ": "), (",", " :"), ("\n,", "\t:")])


@st.composite
def _text_mutation(draw: st.DrawFn, text: str) -> str:
    """What only the JSON text can carry: repeated keys, escapes, odd numbers, stray bytes."""
    if len(text) < 2 or not text.startswith("{"):
        return text
    match draw(st.sampled_from(["none", "none", "repeat", "insert", "wrap"])):
        case "repeat":  # a key written twice (the later value differs or not)
            key = draw(st.sampled_from(["schema", "event_id", "province", "value", "status"]))
            value = draw(st.sampled_from(['"x"', "1", "null", '"15"']))
            return "{" + f'"{key}":{value},' + text[1:]
        case "insert":  # an extra member spelled by hand
            member = draw(
                st.sampled_from(
                    [
                        '"agency":"\\ud800"',
                        '"agency":"\\udc00x"',
                        '"agency":"\\ud83d\\ude00"',
                        '"revision":123456789012345678901',
                        '"revision":9223372036854775808',
                        '"rank":1e400',
                        '"value":-0',
                        '"due_at":"2026-01-01T00:00:00.12345678+07:00"',
                        '"agency":"a\\":b"',
                    ]
                )
            )
            return text[:-1] + ("," if len(text) > 2 else "") + member + "}"
        case "wrap":
            return (
                draw(st.sampled_from(["\ufeff", " ", "\n", "[", ""]))
                + text
                + draw(st.sampled_from(["", " ", "]", " x", "\x00"]))
            )
    return text


def _outcome(adapter: Any, payload: bytes) -> tuple[str, Any]:
    try:
        return "ok", fields(adapter.validate_json(payload))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        return "error", [(e["type"], e["loc"], e["msg"]) for e in errors]


def _check_union(hot: HotDecoder[Any], adapter: TypeAdapter[Any], payload: bytes) -> None:
    expected = _outcome(adapter, payload)
    # msgspec alone: never accepts what pydantic refuses, and reads the same values.
    try:
        alone = hot.decode(payload)
    except msgspec.MsgspecError:
        pass
    else:
        assert expected == ("ok", fields(alone)), payload
    # Through the hot decoder: pydantic's verdict, values and errors exactly.
    assert _outcome(hot, payload) == expected, payload


FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


@pytest.mark.parametrize("model", RAW_MODELS, ids=lambda m: m.__name__)
@FUZZ
@given(data=st.data())
def test_raw_events_same_verdict_as_pydantic(model: type[BaseModel], data: st.DataObject) -> None:
    payload = data.draw(_mutated(model))
    _check_union(RAW_EVENT_HOT, RAW_EVENT, payload)


@pytest.mark.parametrize("model", CANONICAL_MODELS, ids=lambda m: m.__name__)
@FUZZ
@given(data=st.data())
def test_canonical_records_same_verdict_as_pydantic(
    model: type[BaseModel], data: st.DataObject
) -> None:
    payload = data.draw(_mutated(model))
    _check_union(CANONICAL_HOT, CANONICAL_RECORD, payload)


def _with_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_validate, "_decode_fast", lambda payload: None)
    monkeypatch.setattr(ingest_validate, "RAW_EVENT_HOT", RAW_EVENT)
    monkeypatch.setattr(normalize_canonicalize, "RAW_EVENT_HOT", RAW_EVENT)


def _stage_outcomes(payload: bytes, province: str) -> tuple[Any, Any]:
    ingest = ingest_validate.validate(payload, province, REGISTRY)
    normalized = normalize_canonicalize.canonicalize(payload, REF, TODAY)
    return (
        ingest if isinstance(ingest, Rejected) else (fields(ingest.event), ingest.province),
        normalized if isinstance(normalized, Rejected) else fields(normalized),
    )


@pytest.mark.parametrize("model", RAW_MODELS, ids=lambda m: m.__name__)
@FUZZ
@given(data=st.data())
def test_ingest_and_normalize_give_the_same_reasons_with_either_decoder(
    model: type[BaseModel], data: st.DataObject
) -> None:
    payload = data.draw(_mutated(model))
    province = data.draw(st.sampled_from(["01", "15", "79"]))
    hot = _stage_outcomes(payload, province)
    with pytest.MonkeyPatch.context() as mp:
        _with_pydantic(mp)
        slow = _stage_outcomes(payload, province)
    # Rejected carries the reason and every field error (loc and message).
    assert hot == slow, payload


def test_every_schema_is_in_the_hot_decoder() -> None:
    """SCHEMAS, the union and the decoder's tagged Structs name the same schemas."""
    tags = {s.__struct_config__.tag for s in RAW_EVENT_HOT.structs}
    assert tags == set(SCHEMAS) == {_tag(m) for m in RAW_MODELS}
    assert RAW_EVENT_HOT.models == RAW_MODELS
    assert events.RAW_EVENT_HOT.models == union_members(events.RawEvent)[0]
    assert {s.__struct_config__.tag for s in CANONICAL_HOT.structs} == {
        _tag(m) for m in CANONICAL_MODELS
    }


def _tag(model: type[BaseModel]) -> str:
    annotation = model.model_fields[RAW_TAG if model in RAW_MODELS else CANONICAL_TAG].annotation
    (value,) = annotation.__args__  # type: ignore[union-attr]
    return str(value)


def test_a_model_the_hot_path_cannot_mirror_fails_loudly() -> None:
    """A field validator has no msgspec translation: refused, not decoded less strictly."""

    class WithFieldValidator(BaseModel):
        model_config = ConfigDict(strict=True, extra="forbid")
        name: str = Field(max_length=8)

        @field_validator("name")
        @classmethod
        def _upper(cls, v: str) -> str:
            return v.upper()

    with pytest.raises(TypeError, match="field_validators"):
        struct_of(WithFieldValidator)


def test_cross_field_rules_are_the_models_own() -> None:
    """The models' after-validators run on the Structs: without them these would pass."""
    received = {
        "schema": "cchc.dossier_event/1",
        "event_id": "e-1",
        "province": "15",
        "dossier_id": "d",
        "procedure_code": "p",
        "status": "received",
        "occurred_at": "2026-01-05T08:00:00+07:00",
    }
    with pytest.raises(msgspec.ValidationError, match="needs due_at and channel"):
        RAW_EVENT_HOT.decode(json.dumps(received).encode())
    report = {
        "schema": "cchc.indicator_report/1",
        "event_id": "r-1",
        "province": "15",
        "indicator": "index.par",
        "period": "2025",
        "value": 80,
        "reported_at": "2026-01-05T08:00:00+07:00",
        "rank": 5,
        "rank_of": 3,
    }
    with pytest.raises(msgspec.ValidationError, match="rank must be"):
        RAW_EVENT_HOT.decode(json.dumps(report).encode())


@pytest.mark.parametrize("status", [None, "final", "provisional"])
def test_given_tells_a_stated_default_from_an_absent_one(status: str | None) -> None:
    """normalize reads an indicator report's status as stated, else derives it: whether
    ``status`` was in the input must read the same on the Struct as on the model."""
    event = SEEDS[events.INDICATOR_REPORT][0]
    event = {k: v for k, v in event.items() if k != "status"}
    if status is not None:
        event["status"] = status
    payload = json.dumps(event).encode()
    hot = RAW_EVENT_HOT.decode(payload)
    model = RAW_EVENT.validate_json(payload)
    assert not isinstance(hot, BaseModel)
    assert hotpath.given(hot, "status") is hotpath.given(model, "status") is (status is not None)
    assert hot.status == model.status
