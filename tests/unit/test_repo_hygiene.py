"""What `make setup`, `make run` and the tests leave in the work tree is ignored by git, and
`make clean` takes back what the stack put outside it (the broker binary in ~/.calfkit)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "path",
    [
        ".tools/bin/uv",  # make's uv bootstrap
        ".venv/bin/python",
        "var/secrets/analyst.token",  # cchc up
        "var/logs/aggregate.log",
        "var/test-output/screenshots/tong-quan-desktop.png",  # tests/browser
        "bench/results/results.json",
    ],
)
def test_what_the_tools_leave_is_ignored(path: str) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git work tree")
    done = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False)
    assert done.returncode == 0, f"{path} would show as untracked in git status"


def test_make_clean_removes_the_broker_binary_before_the_venv() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nclean:") :]
    remove_binary = recipe.index("cchc_devstack.broker --remove-cached-binary")
    remove_venv = recipe.index("rm -rf $(VENV)")
    assert remove_binary < remove_venv  # the venv knows which binary it copied
