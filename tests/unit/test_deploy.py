"""Static checks of what cannot run here (no Docker engine): Dockerfiles, compose, topic script."""

from __future__ import annotations

import re
from pathlib import Path

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
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:")
        env = service.get("environment", {})
        for name in env if isinstance(env, dict) else ():
            if name.startswith("CCHC_"):
                _check_env_name(name)
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
