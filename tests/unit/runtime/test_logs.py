"""The JSON log line: the field names operators' tools read."""

from __future__ import annotations

import logging
import sys

import orjson
from cchc_runtime.logs import JsonFormatter


def _line(record: logging.LogRecord) -> dict[str, object]:
    parsed = orjson.loads(JsonFormatter("ingest").format(record))
    assert isinstance(parsed, dict)
    return parsed


def _record(level: int, msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("cchc.test", level, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_line_has_the_fixed_fields_first() -> None:
    record = _record(logging.WARNING, "paused %s", "cchc.raw.15")
    record.created = 1_764_000_000.123456
    line = _line(record)
    assert list(line)[:5] == ["ts", "level", "service", "logger", "msg"]
    assert line["ts"] == "2025-11-24T16:00:00.123+00:00"
    assert line["level"] == "warning"
    assert line["service"] == "ingest"
    assert line["logger"] == "cchc.test"
    assert line["msg"] == "paused cchc.raw.15"


def test_context_fields_pass_none_and_terminal_colours_do_not() -> None:
    record = _record(
        logging.INFO, "x", topic="cchc.raw.15", partition=3, offset=None, color_message="\x1b[1m"
    )
    line = _line(record)
    assert line["topic"] == "cchc.raw.15"
    assert line["partition"] == 3
    assert "offset" not in line
    assert "color_message" not in line


def test_exception_goes_in_exc() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord(
            "cchc.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    line = _line(record)
    assert line["level"] == "error"
    assert "RuntimeError: boom" in str(line["exc"])
    assert "exc_info" not in line


def test_compact_json_as_before() -> None:
    text = JsonFormatter("normalize").format(_record(logging.CRITICAL, "bad data"))
    assert '"level":"critical"' in text
