"""Validate one raw message: size, JSON, schema, model, province authority.

The rules: docs/contract.md "Topics" (who may write to which topic) and "Raw events".

Pure: no I/O. Returns either the accepted event with its current province, or a rejection with
a reason code and field errors for the dead-letter envelope.

Checks, in this order (the first failing one names the reason):

1. ``oversized`` — more than 64 KiB, before anything is parsed;
2. ``malformed_json`` — not strict JSON: invalid UTF-8 (also UTF-8-encoded surrogates), a BOM,
   lone ``\\uD800``-style surrogate escapes, ``NaN``/``Infinity``, numbers that overflow a double,
   trailing content, or a duplicate key in any object (I-JSON, RFC 7493: with duplicates, parsers
   disagree on which value wins, so a typo could silently lose a value);
3. ``unknown_schema`` — not a JSON object, or ``schema`` missing, not a string, or unknown;
4. ``schema_violation`` — the strict pydantic model (extra fields forbidden, no coercion,
   timestamps with offset, event_id charset, due_at and channel with ``received``), with
   pydantic's field errors;
5. ``unknown_province`` / ``province_mismatch`` — the province, read against the event's date,
   must be the topic's 2025 province or one of its predecessors.

Most messages pass 2–4 at once: msgspec Structs derived from the models (cchc_shared.hotpath)
parse and check them in one step, about a third of the cost. Whatever they refuse, or whatever
might hide a duplicate key, goes through 2–4 one by one, so the reason and errors are the same.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson
from cchc_shared.dlq import Reason
from cchc_shared.events import RAW_EVENT_HOT, SCHEMAS, AnyEvent
from cchc_shared.hotpath import keys_at_least
from cchc_shared.provinces import MERGER_DATE, Era, ProvinceRegistry
from cchc_shared.validation import (
    LAST_DAY_BEFORE_MERGER,
    Rejected,
    event_date,
    province_candidates,
    pydantic_errors,
)
from pydantic import ValidationError

__all__ = ["MAX_MESSAGE_BYTES", "Accepted", "Rejected", "parse_strict", "validate"]

MAX_MESSAGE_BYTES = 64 * 1024
_PREVIEW = 80  # characters of an offending value quoted in an error message


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid event, and the current (2025) province that wrote it."""

    event: AnyEvent
    province: str


class _NotStrictJson(ValueError):
    pass


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _PREVIEW else f"{text[:_PREVIEW]}…"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _NotStrictJson(f"duplicate key {_preview(key)}")
            seen.add(key)
    return obj


# The C scanner of the standard library calls the hook per object; orjson cannot report
# duplicates, so this second pass runs only on messages orjson already accepted.
_DUPLICATE_CHECK = json.JSONDecoder(object_pairs_hook=_no_duplicates)


_KEY_END = re.compile(rb'"\s*:')
_JSON_SPACE = b" \t\r\n"


def _key_count(value: Any) -> int:
    """Keys of every object in a parsed JSON value (iterative: nesting may be 1,024 deep)."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += len(item)
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
    return count


def parse_strict(payload: bytes) -> Any:
    """The JSON value of ``payload``; ``ValueError`` if it is not strict, duplicate-free JSON."""
    # orjson is strict and fast: invalid UTF-8, surrogates, BOM, NaN, Infinity are errors.
    data = orjson.loads(payload)
    # Only objects can hide a duplicate key; orjson has already checked the UTF-8. Every key in
    # the text ends with `"` then `:`, so when the text has no more such ends than the parsed
    # objects have keys, no key can repeat and the slow second parse is skipped (most traffic).
    # An object has at least its top-level keys, so a flat one (most events) needs no walk.
    if isinstance(data, dict | list) and (
        (ends := len(_KEY_END.findall(payload))) > (len(data) if isinstance(data, dict) else 0)
        and ends > _key_count(data)
    ):
        try:
            _DUPLICATE_CHECK.decode(payload.decode("utf-8"))
        except RecursionError:
            # orjson allows 1024 levels, the stdlib's recursion limit fewer: without this, a
            # deeply nested array would crash the service instead of being dead-lettered.
            raise _NotStrictJson("nesting too deep") from None
    return data


def _decode_fast(payload: bytes) -> AnyEvent | None:
    """The event, when the msgspec Structs take it and the text cannot hide a duplicate key;
    ``None`` sends the message through every check in order, which then names the reason.

    msgspec refuses what orjson refuses (invalid UTF-8, surrogates, BOM, NaN, trailing content,
    integers beyond 64 bits) but keeps the last of repeated keys: the text's key occurrences
    (an upper bound: every ``"`` followed by ``:`` once whitespace is dropped) must not
    outnumber the keys the event
    certainly had (:func:`keys_at_least`). ``tests/unit/shared/test_hotpath.py`` checks that
    ``validate()`` answers exactly as it does without this path.
    """
    try:
        event = RAW_EVENT_HOT.decode(payload)
    except (msgspec.MsgspecError, RecursionError):  # msgspec's own depth limit
        return None
    # JSON whitespace dropped first, so a key's `"` and `:` meet: a count that is never below
    # the key occurrences (dropping spaces inside strings can only add matches). A third of the
    # cost of the regular expression `"\s*:` (py-spy: that search was 9 % of ingest's CPU).
    occurrences = payload.translate(None, _JSON_SPACE).count(b'":')
    if occurrences > keys_at_least(event):  # type: ignore[arg-type]
        return None
    return event


def _decode_checked(payload: bytes) -> AnyEvent | Rejected:
    """Every check in the contract's order: the first that fails is the reason."""
    try:
        data = parse_strict(payload)
    except ValueError as exc:  # orjson.JSONDecodeError is one
        return Rejected.one(Reason.MALFORMED_JSON, "$", str(exc))
    if not isinstance(data, dict):
        kind = type(data).__name__
        return Rejected.one(
            Reason.UNKNOWN_SCHEMA, "$", f"a message must be a JSON object, not {kind}"
        )
    schema = data.get("schema")
    if not isinstance(schema, str) or schema not in SCHEMAS:
        what = "missing" if "schema" not in data else f"unknown: {_preview(schema)}"
        return Rejected.one(
            Reason.UNKNOWN_SCHEMA, "schema", f"schema {what}; expected one of {', '.join(SCHEMAS)}"
        )
    try:
        # The Structs again, then pydantic, which names the fields of what they refuse.
        event = RAW_EVENT_HOT.validate_json(payload)
    except ValidationError as exc:
        return Rejected(Reason.SCHEMA_VIOLATION, pydantic_errors(exc))
    return event


def validate(
    payload: bytes, topic_province: str | None, registry: ProvinceRegistry
) -> Accepted | Rejected:
    """Check one message read from `cchc.raw.<topic_province>`, in the contract's order."""
    if len(payload) > MAX_MESSAGE_BYTES:
        return Rejected.one(
            Reason.OVERSIZED, "$", f"{len(payload)} bytes > {MAX_MESSAGE_BYTES} bytes limit"
        )
    event = _decode_fast(payload)
    if event is None:
        checked = _decode_checked(payload)
        if isinstance(checked, Rejected):
            return checked
        event = checked
    if topic_province is None:
        return Rejected.one(
            Reason.PROVINCE_MISMATCH, "province", "not read from a cchc.raw.NN topic"
        )
    units = province_candidates(registry, event.province, event_date(event))
    if not units:
        return Rejected.one(
            Reason.UNKNOWN_PROVINCE, "province", f"{_preview(event.province)} names no province"
        )
    if not any(registry.may_write(topic_province, u) for u in units):
        unit = units[0]
        era = (
            f"until {LAST_DAY_BEFORE_MERGER}" if unit.era is Era.PRE_2025 else f"from {MERGER_DATE}"
        )
        return Rejected.one(
            Reason.PROVINCE_MISMATCH,
            "province",
            f"{_preview(event.province)} is {unit.code} {unit.name} ({era}), "
            f"which may not write to cchc.raw.{topic_province}",
        )
    return Accepted(event, topic_province)
