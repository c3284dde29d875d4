"""Static checks of what cannot run here (no Docker engine): Dockerfiles, compose, topic script."""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from cchc_aggregate.settings import AggregateSettings
from cchc_ingest.settings import IngestSettings
from cchc_normalize.settings import NormalizeSettings
from cchc_shared.provinces import Era, default_registry
from cchc_shared.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "normalize", "aggregate")
SETTINGS = {
    "CCHC_KAFKA_": KafkaSettings,
    "CCHC_INGEST_": IngestSettings,
    "CCHC_NORMALIZE_": NormalizeSettings,
    "CCHC_AGGREGATE_": AggregateSettings,
}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _check_env_name(name: str) -> None:
    for prefix, model in SETTINGS.items():
        if name.startswith(prefix):
            field = name.removeprefix(prefix).lower()
            assert field in model.model_fields, f"{name}: {model.__name__} has no {field!r}"
            return
    raise AssertionError(f"{name} belongs to no settings class")


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_copies_existing_paths_and_runs_the_service(service: str) -> None:
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    for line in re.findall(r"^COPY\s+(.+)$", text, flags=re.M):
        *sources, _dest = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    assert f'CMD ["python", "-m", "cchc_{service}"]' in text
    assert (ROOT / "services" / service / f"cchc_{service}" / "__main__.py").is_file()
    for name in re.findall(r"\b(CCHC_[A-Z_]+)=", text):
        _check_env_name(name)
    # Every package the image installs is a workspace member with a pyproject.
    (install,) = re.findall(r"uv pip install --system -c requirements.lock (.+)$", text, re.M)
    for member in install.split():
        assert (ROOT / member / "pyproject.toml").is_file(), member


# The one port published beyond loopback: Kafka's province-facing SASL_SSL listener.
PROVINCE_PORT = "${CCHC_KAFKA_PROVINCE_BIND_ADDRESS:?set it in .env (see .env.example)}:9094:9094"


def test_compose_builds_each_service_and_binds_host_ports_to_loopback() -> None:
    compose = _compose()
    services = compose["services"]
    for name in SERVICES:
        assert name in services
        for port in services[name].get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    built = {
        s["build"]["dockerfile"] for s in services.values() if isinstance(s.get("build"), dict)
    }
    assert {f"services/{n}/Dockerfile" for n in ("ingest", "normalize", "aggregate")} <= built
    for name, service in services.items():
        for port in service.get("ports", []):
            if (name, port) != ("kafka", PROVINCE_PORT):
                assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        if not str(service.get("image", "")).startswith("cchc-"):
            continue  # third-party images: their own variables (CCHC_CLICKHOUSE_* for access)
        env = service.get("environment", {})
        for env_name in env if isinstance(env, dict) else ():
            if env_name.startswith("CCHC_"):
                _check_env_name(env_name)
    assert services["migrate"]["command"][-2:] == ["cchc_aggregate", "migrate"]


def test_topic_script_creates_a_raw_topic_for_each_2025_province() -> None:
    text = (ROOT / "deploy" / "kafka" / "create-topics.sh").read_text()
    (codes,) = re.findall(r'^PROVINCES="([0-9 ]+)"', text, flags=re.M)
    expected = [u.code for u in default_registry().units(Era.POST_2025)]
    assert codes.split() == expected
    for topic in ("cchc.validated", "cchc.normalized", "cchc.dlq"):
        assert topic in text


def test_migrations_are_numbered_without_gaps() -> None:
    files = sorted(p.name for p in (ROOT / "deploy" / "clickhouse").glob("*.sql"))
    numbers = [int(name[:4]) for name in files]
    assert numbers == list(range(1, len(files) + 1)), files


# -- production security (docs/security.md "Deployment: Kafka and ClickHouse access") -----------

SUBST = re.compile(r"\$\{([A-Z0-9_]+)(:?[-?])?([^}]*)\}")
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL|_KEY$", re.I)


def _env(service: str) -> dict[str, str]:
    env = _compose()["services"][service].get("environment", {})
    assert isinstance(env, dict), f"{service}: environment as a mapping"
    return {k: str(v) for k, v in env.items()}


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_no_service_environment_holds_a_literal_secret() -> None:
    for name in _compose()["services"]:
        for key, value in _env(name).items():
            if SECRET_KEY.search(key) and not key.endswith("_FILE"):
                match = SUBST.fullmatch(value)
                assert match, f"{name}: {key} must come from .env, not be written here"
                assert match.group(2) == ":?", f"{name}: {key} must be required (${{VAR:?…}})"
            if "://" in value:
                parts = urlsplit(value)
                assert parts.password is None, f"{name}: {key} has a password in its URL"
        assert "CLICKHOUSE_PASSWORD" not in _env(name), name
        assert "CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT" not in _env(name), name
    text = (ROOT / "docker-compose.yml").read_text()
    assert "cchc:cchc" not in text
    assert "GF_INSTALL_PLUGINS" not in text


def test_every_compose_variable_is_documented_and_passwords_left_empty() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = {m.group(1): m.group(2) for m in SUBST.finditer(text)}
    example = _env_example()
    assert set(used) == set(example), "docker-compose.yml and .env.example name other variables"
    for name, value in example.items():
        if SECRET_KEY.search(name):
            assert value == "", f".env.example: {name} must be empty (compose then refuses)"
            assert used[name] == ":?", f"{name}: compose must refuse to start without it"
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert "secrets/" in (ROOT / ".gitignore").read_text().split()


def test_kafka_listeners_sasl_scram_and_no_plaintext_beyond_loopback() -> None:
    env = _env("kafka")
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = {}
    for listener in env["KAFKA_LISTENERS"].split(","):
        name, _, address = listener.partition("://")
        listeners[name] = address
    assert set(listeners) == set(protocols)
    for name, protocol in protocols.items():
        if protocol in ("PLAINTEXT", "SSL"):  # unauthenticated: ANONYMOUS, a super user
            assert listeners[name].startswith("127.0.0.1:"), f"{name} {protocol} beyond loopback"
    assert protocols["PROVINCE"] == "SASL_SSL"
    assert protocols["INTERNAL"] == "SASL_PLAINTEXT"
    assert listeners["PROVINCE"] == ":9094"
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert set(env["KAFKA_SUPER_USERS"].split(";")) == {"User:admin", "User:ANONYMOUS"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@127.0.0.1:9093"
    assert env["KAFKA_SSL_KEYSTORE_LOCATION"] == "/run/secrets/kafka_tls_pem"
    assert "kafka-data:" + env["KAFKA_LOG_DIRS"] in _compose()["services"]["kafka"]["volumes"]
    assert _compose()["services"]["kafka"]["ports"] == [PROVINCE_PORT]
    jaas = (ROOT / "deploy" / "kafka" / "kafka_server_jaas.conf").read_text()
    assert "ScramLoginModule required;" in jaas
    assert "password" not in jaas[jaas.index("KafkaServer {") :]  # comments aside


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_its_own_kafka_principal(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(service)
    assert env["CCHC_KAFKA_SASL_USERNAME"] == service
    variable = f"CCHC_KAFKA_{service.upper()}_PASSWORD"
    assert env["CCHC_KAFKA_SASL_PASSWORD"].startswith(f"${{{variable}:?")
    for key, value in env.items():
        if key.startswith("CCHC_KAFKA_"):
            monkeypatch.setenv(key, "placeholder" if value.startswith("${") else value)
    settings = KafkaSettings()
    assert settings.security_protocol == "SASL_PLAINTEXT"
    assert settings.kafka_python_security()["sasl_plain_username"] == service
    assert settings.bootstrap_servers == "kafka:9092"


def test_setup_jobs_run_in_order_users_topics_acls_then_services() -> None:
    services = _compose()["services"]

    def after(name: str) -> dict[str, str]:
        return {k: v["condition"] for k, v in services[name]["depends_on"].items()}

    assert after("kafka-users") == {"kafka": "service_healthy"}
    assert services["kafka-users"]["network_mode"] == "service:kafka"
    assert services["kafka-users"]["entrypoint"][-1] == "/cchc/create-users.sh"
    assert after("topics") == {"kafka-users": "service_completed_successfully"}
    assert services["topics"]["entrypoint"][-2:] == ["/cchc/as-admin.sh", "/cchc/create-topics.sh"]
    assert after("acls") == {"topics": "service_completed_successfully"}
    assert services["acls"]["entrypoint"][-2:] == ["/cchc/as-admin.sh", "/cchc/acls.sh"]
    for name in SERVICES:
        assert after(name)["acls"] == "service_completed_successfully"


def test_clickhouse_users_come_from_the_access_folder_only() -> None:
    service = _compose()["services"]["clickhouse"]
    volumes = service["volumes"]
    for kind, name in (("users.d", "cchc-users.xml"), ("config.d", "cchc-access.xml")):
        mount = f"./deploy/clickhouse/access/{kind}/{name}:/etc/clickhouse-server/{kind}/{name}:ro"
        assert mount in volumes
    assert (
        "./deploy/clickhouse-server/users.xml:/etc/clickhouse-server/users.xml:ro"
        in service["volumes"]
    )
    env = _env("clickhouse")
    assert env["CLICKHOUSE_SKIP_USER_SETUP"] == "1"  # the entrypoint would write into users.d
    for role in ("WRITER", "ANALYST", "GRAFANA"):
        assert env[f"CCHC_CLICKHOUSE_{role}_PASSWORD"].startswith(
            f"${{CCHC_CLICKHOUSE_{role}_PASSWORD:?"
        )
    users = ET.parse(ROOT / "deploy" / "clickhouse-server" / "users.xml").getroot()
    assert users.find("users") is not None
    assert list(users.find("users")) == []  # no `default` user, no user at all
    for name in ("migrate", "aggregate"):
        env = _env(name)
        assert env["CCHC_AGGREGATE_DSN"] == "http://cchc_writer@clickhouse:8123"
        assert env["CCHC_AGGREGATE_DSN_PASSWORD"].startswith("${CCHC_CLICKHOUSE_WRITER_PASSWORD:?")
    grafana = _env("grafana")
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${CCHC_GRAFANA_ADMIN_PASSWORD:?")
    datasources = (ROOT / "deploy/grafana/provisioning/datasources/cchc.yml").read_text()
    assert "username: cchc_grafana" in datasources
    assert "password: $CCHC_CLICKHOUSE_GRAFANA_PASSWORD" in datasources


def test_the_access_folder_reads_every_password_from_the_environment() -> None:
    access = ROOT / "deploy" / "clickhouse" / "access"
    text = "\n".join(p.read_text() for p in sorted(access.rglob("*.xml")))
    for role in ("WRITER", "ANALYST", "GRAFANA"):
        assert f"CCHC_CLICKHOUSE_{role}_PASSWORD" in text
    for path in access.rglob("*.xml"):
        for element in ET.parse(path).getroot().iter():
            if element.tag.startswith("password"):
                assert not (element.text or "").strip(), f"{path.name}: a literal password"


def test_user_script_names_every_2025_province() -> None:
    text = (ROOT / "deploy" / "kafka" / "create-users.sh").read_text()
    (codes,) = re.findall(r'^PROVINCES="([0-9 ]+)"', text, flags=re.M)
    assert codes.split() == [u.code for u in default_registry().units(Era.POST_2025)]


def _fake_kafka_tool(tmp_path: Path) -> Path:
    tool = tmp_path / "fake-kafka-tool.sh"
    tool.write_text(
        "#!/usr/bin/env bash\n"
        'echo "ARGS $*" >> "$LOG"\n'
        'for a in "$@"; do\n'
        '  [[ -f "$a" ]] && { echo "FILE $(stat -c %a "$a")"; cat "$a"; } >> "$LOG"\n'
        "done\n"
        "exit 0\n"
    )
    tool.chmod(0o755)
    return tool


def _passwords(tmp_path: Path, codes: list[str]) -> Path:
    path = tmp_path / "province-passwords"
    path.write_text("# code password\n" + "".join(f"{c} pw-{c}-0123456789abcdef\n" for c in codes))
    return path


def _run_users(tmp_path: Path, passwords: Path) -> subprocess.CompletedProcess[str]:
    log = tmp_path / "log"
    env = {
        "PATH": os.environ["PATH"],
        "LOG": str(log),
        "KAFKA_CONFIGS": str(_fake_kafka_tool(tmp_path)),
        "PROVINCE_PASSWORDS_FILE": str(passwords),
        "ADMIN_PASSWORD": "admin-0123456789abcdef",
        "INGEST_PASSWORD": "ingest-0123456789abcdef",
        "NORMALIZE_PASSWORD": "normalize-0123456789abcdef",
        "AGGREGATE_PASSWORD": "aggregate-0123456789abcdef",
    }
    script = ROOT / "deploy" / "kafka" / "create-users.sh"
    return subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, check=False
    )


def test_user_script_creates_every_principal_without_a_password_on_a_command_line(
    tmp_path: Path,
) -> None:
    codes = [u.code for u in default_registry().units(Era.POST_2025)]
    result = _run_users(tmp_path, _passwords(tmp_path, codes))
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "log").read_text()
    args = [line for line in log.splitlines() if line.startswith("ARGS ")]
    users = [re.search(r"--entity-name (\S+)", a).group(1) for a in args]  # type: ignore[union-attr]
    assert users == ["admin", "ingest", "normalize", "aggregate"] + [f"province-{c}" for c in codes]
    assert not any("0123456789abcdef" in a for a in args)  # passwords only in the 0600 file
    assert "SCRAM-SHA-512=[iterations=8192,password=pw-01-0123456789abcdef]" in log
    assert set(re.findall(r"^FILE (\d+)$", log, flags=re.M)) == {"600"}


def test_user_script_refuses_a_missing_or_weak_province_password(tmp_path: Path) -> None:
    codes = [u.code for u in default_registry().units(Era.POST_2025)]
    result = _run_users(tmp_path, _passwords(tmp_path, codes[:-1]))
    assert result.returncode != 0
    assert f"no password for province {codes[-1]}" in result.stderr
    weak = _passwords(tmp_path, codes)
    weak.write_text(weak.read_text().replace("pw-01-0123456789abcdef", 'pw"]short'))
    result = _run_users(tmp_path, weak)
    assert result.returncode != 0
    assert "password of province-01" in result.stderr


def test_as_admin_hands_a_private_client_config_and_removes_it(tmp_path: Path) -> None:
    probe = tmp_path / "probe.sh"
    probe.write_text(
        'stat -c %a "$COMMAND_CONFIG"; cat "$COMMAND_CONFIG"; echo "$COMMAND_CONFIG" > "$OUT"\n'
    )
    env = {"PATH": os.environ["PATH"], "ADMIN_PASSWORD": "a" * 32, "OUT": str(tmp_path / "o")}
    result = subprocess.run(
        ["bash", str(ROOT / "deploy" / "kafka" / "as-admin.sh"), str(probe)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "600"
    assert "security.protocol=SASL_PLAINTEXT" in lines
    assert "sasl.mechanism=SCRAM-SHA-512" in lines
    assert f'username="admin" password="{"a" * 32}";' in result.stdout
    assert not Path((tmp_path / "o").read_text().strip()).exists()
    env["ADMIN_PASSWORD"] = 'x" y'
    bad = subprocess.run(
        ["bash", str(ROOT / "deploy" / "kafka" / "as-admin.sh"), str(probe)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0
