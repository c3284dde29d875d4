"""aggregate's ClickHouse DSN: the password comes from its own setting, never from the DSN."""

from __future__ import annotations

import logging
from urllib.parse import unquote, urlparse

import pytest
from cchc_aggregate.settings import AggregateSettings

PASSWORD = "p@ss:w/rd%not-real"  # a test value with every character a URL must escape


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCHC_AGGREGATE_DSN", raising=False)
    monkeypatch.delenv("CCHC_AGGREGATE_DSN_PASSWORD", raising=False)


def test_the_password_setting_goes_into_the_dsn_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_AGGREGATE_DSN", "http://cchc_writer@clickhouse:8123/default")
    monkeypatch.setenv("CCHC_AGGREGATE_DSN_PASSWORD", PASSWORD)
    dsn = AggregateSettings().clickhouse_dsn()
    parsed = urlparse(dsn)
    assert parsed.hostname == "clickhouse"
    assert parsed.port == 8123
    assert parsed.path == "/default"
    assert parsed.username == "cchc_writer"
    assert unquote(parsed.password or "") == PASSWORD  # as clickhouse-connect reads it


def test_without_a_password_setting_the_dsn_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_AGGREGATE_DSN", "http://cchc_writer@clickhouse:8123")
    assert AggregateSettings().clickhouse_dsn() == "http://cchc_writer@clickhouse:8123"
    monkeypatch.delenv("CCHC_AGGREGATE_DSN")
    assert AggregateSettings().clickhouse_dsn().startswith("chdb://")


def test_a_password_without_a_user_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_AGGREGATE_DSN", "http://clickhouse:8123")
    monkeypatch.setenv("CCHC_AGGREGATE_DSN_PASSWORD", PASSWORD)
    with pytest.raises(ValueError, match="needs a user"):
        AggregateSettings().clickhouse_dsn()


def test_the_password_never_shows_in_the_settings(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CCHC_AGGREGATE_DSN", "http://cchc_writer@clickhouse:8123")
    monkeypatch.setenv("CCHC_AGGREGATE_DSN_PASSWORD", PASSWORD)
    settings = AggregateSettings()
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert PASSWORD not in text
    with caplog.at_level(logging.INFO):
        logging.getLogger("cchc.test").info("settings %s %r", settings, settings)
    assert PASSWORD not in caplog.text
