"""A pushed body → its events: JSON lines or one JSON array, each event's bytes kept as written."""

from __future__ import annotations

import pytest
from cchc_ingest.steps.body import BodyError, Line, split_body


def test_json_lines_skip_blank_lines_but_count_them() -> None:
    body = b'{"a": 1}\r\n\n   \n{oops\n{"b": "\xc3\xa0"}'
    assert split_body(body) == [
        Line(1, b'{"a": 1}'),
        Line(4, b"{oops"),
        Line(5, b'{"b": "\xc3\xa0"}'),
    ]


def test_an_empty_body_has_no_events() -> None:
    assert split_body(b"") == []
    assert split_body(b"\n \n") == []
    assert split_body(b" [ ] ") == []


def test_array_elements_keep_their_exact_bytes() -> None:
    body = b' [ {"value": 47.0, "x": "\\u00e0"},\n  "text", 1e5 ,{"k": [1, {"n": null}]}]\n'
    assert split_body(body) == [
        Line(1, b'{"value": 47.0, "x": "\\u00e0"}'),
        Line(2, b'"text"'),
        Line(3, b"1e5"),
        Line(4, b'{"k": [1, {"n": null}]}'),
    ]


@pytest.mark.parametrize(
    "body",
    [b"[{}", b'[{"a": 1, "a": 2}]', b"[1] 2", b"[NaN]", b"[\xff]", b"[" * 2000 + b"]" * 2000],
)
def test_an_array_that_is_not_strict_json_is_refused_whole(body: bytes) -> None:
    with pytest.raises(BodyError):
        split_body(body)
