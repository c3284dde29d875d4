"""normalize refuses to start on broken reference data: a clear log line and a non-zero exit."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from cchc_normalize import __main__ as entry
from cchc_normalize.steps.canonicalize import Reference
from cchc_shared.catalogue import Catalogue

# Runs `python -m cchc_normalize` with the province data read from argv[1] (a broken copy).
_WITH_PROVINCE_DIR = """
import sys
from pathlib import Path
from cchc_shared.provinces import ProvinceRegistry
load = ProvinceRegistry.load.__func__
ProvinceRegistry.load = classmethod(lambda cls, data_dir=None: load(cls, Path(sys.argv[1])))
from cchc_normalize.__main__ import main
main()
"""

# Runs `python -m cchc_normalize` with a catalogue in which two indicators share an alias.
_WITH_BROKEN_CATALOGUE = """
from cchc_shared.catalogue import Catalogue
from importlib import resources
toml = resources.files("cchc_shared").joinpath("data/indicators.toml").read_text("utf-8")
toml = toml.replace('"TTHC bãi bỏ",', '"TTHC bãi bỏ", "Số TTHC công khai",', 1)
Catalogue.load = classmethod(lambda cls: cls.from_toml(toml))
from cchc_normalize.__main__ import main
main()
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CCHC_NORMALIZE_LOG_FORMAT": "json",
        # Nothing listens there: the service must stop before it ever connects.
        "CCHC_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "CCHC_NORMALIZE_PORT": "0",
    }
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_broken_province_file_stops_the_service(tmp_path: Path) -> None:
    data = resources.files("cchc_shared") / "data"
    for name in ("provinces_2004.csv", "provinces_2025.csv", "aliases.csv", "communes_2025.csv"):
        shutil.copyfile(str(data / name), tmp_path / name)
    path = tmp_path / "provinces_2004.csv"
    # Drop the old Lào Cai (10): 62 units instead of 63.
    lines = path.read_text("utf-8").splitlines(keepends=True)
    path.write_text("".join(li for li in lines if not li.startswith("10,")), "utf-8")

    done = _run(_WITH_PROVINCE_DIR, str(tmp_path))

    assert done.returncode == entry.EXIT_BAD_REFERENCE_DATA, done.stderr
    assert "reference data is invalid" in done.stderr
    assert "62 units in era 2004, expected 63" in done.stderr
    assert '"level":"critical"' in done.stderr
    assert "Traceback" not in done.stderr


def test_broken_catalogue_stops_the_service() -> None:
    done = _run(_WITH_BROKEN_CATALOGUE)
    assert done.returncode == entry.EXIT_BAD_REFERENCE_DATA, done.stderr
    assert "invalid indicator catalogue" in done.stderr
    assert "already belongs to procedures.published" in done.stderr
    assert "Traceback" not in done.stderr


def test_load_reference_logs_and_exits(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(cls: type[Catalogue]) -> Catalogue:
        raise ValueError("invalid indicator catalogue: staff.cut: counts must have min = 0")

    monkeypatch.setattr(Catalogue, "load", classmethod(broken))
    with caplog.at_level(logging.CRITICAL), pytest.raises(SystemExit) as info:
        entry.load_reference()
    assert info.value.code == 2
    assert "counts must have min = 0" in caplog.text


def test_packaged_reference_data_loads() -> None:
    reference = Reference.load()
    assert len(reference.catalogue) >= 34
    assert entry.load_reference() is not None
