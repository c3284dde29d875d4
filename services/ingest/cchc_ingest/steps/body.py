"""A pushed body → its events, each as the bytes a Kafka message would carry.

The HTTPS push (`POST /v1/events`), the dry run (`POST /v1/validate`) and `cchc validate` read a
body the same way (docs/contract.md "Province push"):

* **JSON lines** (the default): one event per line, ``\\n``-separated, a trailing ``\\r`` dropped;
  blank lines are skipped. Each line is judged alone, exactly as one Kafka message of that
  content: a broken line is rejected, its neighbours are not. ``line`` is the line's number in
  the body (1-based, blank lines counted).
* **A JSON array** (the first non-blank byte is ``[``): each element is one event, and ``line``
  its position (1-based). The array must be strict JSON as a whole (:func:`parse_strict`),
  otherwise the body cannot be split and nothing of it is taken (:class:`BodyError`). Each
  element is kept as the exact bytes it had in the body, so what ingest validates, forwards and
  dead-letters is what the province wrote.

Pure: no I/O.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from cchc_ingest.steps.validate import parse_strict

__all__ = ["BodyError", "Line", "split_body"]

_BLANK = b" \t\r\n"
_DECODER = json.JSONDecoder()


class Line(NamedTuple):
    """One event of a body: its line (or array position) and its bytes."""

    number: int
    payload: bytes


class BodyError(ValueError):
    """The body as a whole cannot be read (a JSON array that is not strict JSON)."""


def split_body(body: bytes) -> list[Line]:
    """The events of a pushed body, in order; :class:`BodyError` for an unreadable array."""
    if body.lstrip(_BLANK).startswith(b"["):
        return _array(body)
    lines = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if line.strip(_BLANK):
            lines.append(Line(number, line.removesuffix(b"\r")))
    return lines


def _array(body: bytes) -> list[Line]:
    try:
        data = parse_strict(body)
    except ValueError as exc:
        raise BodyError(f"a body starting with '[' must be one strict JSON array: {exc}") from None
    if not isinstance(data, list):  # pragma: no cover - a strict value starting with '[' is one
        raise BodyError("a body starting with '[' must be one JSON array")
    # parse_strict accepted it, so it is UTF-8 and the stdlib decoder reads it element by element;
    # the spans give each element's original bytes (orjson gives values, not positions).
    text = body.decode("utf-8")
    lines: list[Line] = []
    pos = _skip(text, text.index("[") + 1)
    try:
        while text[pos] != "]":
            _, end = _DECODER.raw_decode(text, pos)
            lines.append(Line(len(lines) + 1, text[pos:end].encode("utf-8")))
            pos = _skip(text, end)
            if text[pos] == ",":
                pos = _skip(text, pos + 1)
    except RecursionError:
        raise BodyError("a body starting with '[' is nested too deep") from None
    return lines


def _skip(text: str, pos: int) -> int:
    while text[pos] in " \t\r\n":
        pos += 1
    return pos
