"""`cchc dlq list --since`: a duration ago, or a date/time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer
from cchc_cli.dlq import parse_since

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        (" 7d ", timedelta(days=7)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
    ],
)
def test_a_duration_is_that_long_ago(text: str, ago: timedelta) -> None:
    assert parse_since(text, now=NOW) == NOW - ago


def test_an_iso_date_time_without_offset_is_utc() -> None:
    assert parse_since("2026-11-19T08:30") == datetime(2026, 11, 19, 8, 30, tzinfo=UTC)
    assert parse_since("2026-11-19") == datetime(2026, 11, 19, tzinfo=UTC)


def test_an_iso_date_time_keeps_its_offset() -> None:
    moment = parse_since("2026-11-19T15:30+07:00")
    assert moment == datetime(2026, 11, 19, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "2x", "-2h", ""])
def test_anything_else_is_a_bad_parameter(text: str) -> None:
    with pytest.raises(typer.BadParameter, match="neither a duration"):
        parse_since(text, now=NOW)
