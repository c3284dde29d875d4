"""deploy/clickhouse/access/: the production ClickHouse users, parsed and checked.

The analyst and Grafana users are readonly=1 with their limits pinned (constant), SELECT only
on the analyst tables the SQL guard allows, nothing that reads files, URLs or other servers;
the writer has what the migrations need and no access management; no password is written down;
the passwordless default user is removed; system tables need a grant.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cchc_aggregate.clickhouse.sandbox import SqlLimits
from cchc_aggregate.query.sql_guard import ANALYST_TABLES
from cchc_aggregate.settings import AggregateSettings

ROOT = Path(__file__).resolve().parents[3]
ACCESS = ROOT / "deploy" / "clickhouse" / "access"
USERS = ET.parse(ACCESS / "users.d" / "cchc-users.xml").getroot()
CONFIG = ET.parse(ACCESS / "config.d" / "cchc-access.xml").getroot()
READERS = ("cchc_analyst", "cchc_grafana")
LIMITS = (
    "readonly",
    "max_result_rows",
    "max_result_bytes",
    "result_overflow_mode",
    "max_memory_usage",
    "max_execution_time",
)
CLIENT_SETTINGS = ("SELECT(name, value, readonly)", "system.settings")
GRANT = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<target>\S+)$")


def user(name: str) -> ET.Element:
    found = USERS.find(f"users/{name}")
    assert found is not None, name
    return found


def profile(name: str) -> ET.Element:
    found = USERS.find(f"profiles/{name}")
    assert found is not None, name
    return found


def grants(name: str) -> list[tuple[str, str]]:
    parsed = []
    for query in user(name).findall("grants/query"):
        match = GRANT.match((query.text or "").strip())
        assert match, query.text
        parsed.append((match["privileges"], match["target"]))
    return parsed


def test_every_user_has_a_password_from_the_environment_and_none_written_down() -> None:
    for entry in user("cchc_writer"), *map(user, READERS):
        passwords = [e for e in entry if e.tag.startswith("password")]
        assert len(passwords) == 1, entry.tag
        (password,) = passwords
        assert password.attrib.get("from_env", "").startswith("CCHC_CLICKHOUSE_"), entry.tag
        assert not (password.text or "").strip(), entry.tag
        assert entry.findtext("access_management") == "0"
    for path in ACCESS.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"<password[^>]*>[^<]+</password", text), path
            assert "password_sha256_hex>" not in text, path


def test_the_passwordless_default_user_is_removed() -> None:
    default = USERS.find("users/default")
    assert default is not None
    assert default.attrib.get("remove") == "1"


@pytest.mark.parametrize("name", READERS)
def test_readers_are_readonly_with_every_limit_constant(name: str) -> None:
    entry = user(name)
    assert entry.findtext("profile") == name
    assert entry.findtext("quota") == name
    prof = profile(name)
    assert prof.findtext("readonly") == "1"
    assert prof.findtext("result_overflow_mode") == "throw"
    assert prof.findtext("allow_ddl") == "0"
    for setting in LIMITS:
        assert prof.findtext(setting), setting
        constraint = prof.find(f"constraints/{setting}")
        assert constraint is not None, setting
        assert constraint.find("const") is not None, setting
    quota = USERS.find(f"quotas/{name}/interval")
    assert quota is not None
    for field in ("duration", "queries", "result_rows", "read_rows", "execution_time"):
        assert int(quota.findtext(field) or 0) > 0, field


def test_the_analyst_profile_pins_the_apps_limits() -> None:
    settings, limits = AggregateSettings(), SqlLimits()
    prof = profile("cchc_analyst")
    assert int(prof.findtext("max_result_rows") or 0) == settings.sql_max_rows == limits.max_rows
    assert (
        int(prof.findtext("max_result_bytes") or 0)
        == settings.sql_max_result_bytes
        == limits.max_result_bytes
    )
    assert (
        int(prof.findtext("max_memory_usage") or 0)
        == settings.sql_max_memory_bytes
        == limits.max_memory_bytes
    )
    assert float(prof.findtext("max_execution_time") or 0) == settings.sql_max_seconds
    assert int(prof.findtext("max_block_size") or 0) == limits.block_rows
    assert prof.find("constraints/max_block_size/const") is not None


@pytest.mark.parametrize("name", READERS)
def test_readers_may_select_the_analyst_tables_and_nothing_else(name: str) -> None:
    parsed = [grant for grant in grants(name) if grant != CLIENT_SETTINGS]
    assert {privileges for privileges, _ in parsed} == {"SELECT"}
    # Grafana's operator dashboard also counts dead letters; analysts never read them.
    extra = {"default.dead_letters"} if name == "cchc_grafana" else set()
    assert {target for _, target in parsed} == {f"default.{t}" for t in ANALYST_TABLES} | extra
    assert "dead_letters" not in ANALYST_TABLES


def test_clickhouse_connect_users_may_read_three_columns_of_system_settings() -> None:
    # clickhouse-connect reads system.settings (name, value, readonly) when it connects.
    for name in ("cchc_writer", "cchc_analyst"):
        assert CLIENT_SETTINGS in grants(name)


def test_nobody_may_read_files_urls_or_other_servers() -> None:
    sources = {"FILE", "URL", "REMOTE", "S3", "HDFS", "MYSQL", "POSTGRES", "JDBC", "ODBC"}
    sources |= {"SOURCES", "ALL", "SYSTEM", "INTROSPECTION", "ACCESS MANAGEMENT", "KILL QUERY"}
    for name in ("cchc_writer", *READERS):
        for privileges, target in grants(name):
            granted = {p.strip().upper() for p in privileges.split(",")}
            assert not granted & sources, (name, privileges)
            if (privileges, target) == CLIENT_SETTINGS:
                continue
            assert not target.startswith(("system.", "*.", "information_schema")), (name, target)
            if privileges != "TABLE ENGINE":
                assert target.startswith("default."), (name, target)


def test_the_writer_may_create_what_the_migrations_create() -> None:
    engines = set()
    for path in (ROOT / "deploy" / "clickhouse").glob("[0-9]*.sql"):
        engines |= set(re.findall(r"ENGINE\s*=\s*(\w+)", path.read_text(encoding="utf-8")))
    granted = {
        target for privileges, target in grants("cchc_writer") if privileges == "TABLE ENGINE"
    }
    assert engines
    assert engines <= granted, engines - granted
    assert granted <= {
        "MergeTree",
        "ReplacingMergeTree",
        "SummingMergeTree",
        "EmbeddedRocksDB",
        "Null",
    }
    (all_tables,) = [p for p, target in grants("cchc_writer") if target == "default.*"]
    for needed in ("SELECT", "INSERT", "CREATE TABLE", "CREATE VIEW", "TRUNCATE"):
        assert needed in all_tables


def test_system_tables_need_a_grant() -> None:
    improvements = CONFIG.find("access_control_improvements")
    assert improvements is not None
    for flag in (
        "select_from_system_db_requires_grant",
        "select_from_information_schema_requires_grant",
        "table_engines_require_grant",
    ):
        assert improvements.findtext(flag) == "true", flag


def test_the_sandbox_asks_a_server_for_exactly_the_profiles_values() -> None:
    # Sent as text; a readonly profile's value equal to it is skipped by the driver, not refused.
    prof = profile("cchc_analyst")
    for name, value in SqlLimits().settings().items():
        assert prof.findtext(name) == str(value), name
