"""py-spy profiles of the service processes, and where their time goes.

py-spy is optional (``pip install py-spy``): without it ``--profile`` says so and the run goes
on. Profiles are collapsed stacks (``*.folded``: open them in https://www.speedscope.app or feed
them to flamegraph.pl); :func:`breakdown` sorts each sample into a category by its innermost
recognisable frame, giving "% of samples in pydantic, JSON decode, aiokafka, ClickHouse …".
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# (category, substrings of a frame "function (file:line)"), checked innermost frame first; the
# first category any frame of the stack matches wins. Order matters: specific before generic.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "json decode (stdlib duplicate-key check)",
        ("json/decoder.py", "json/scanner.py", "_no_duplicates"),
    ),
    ("json decode (orjson)", ("orjson",)),
    (
        "pydantic validate",
        ("validate_json", "validate_python", "pydantic/main.py:__init__", "type_adapter.py"),
    ),
    ("pydantic serialize", ("model_dump", "to_json")),
    ("ClickHouse insert (chdb / clickhouse-connect)", ("clickhouse_connect", "chdb")),
    ("normalize steps (periods, numbers, units, provinces)", ("cchc_shared/", "canonicalize.py")),
    (
        "service steps / handler",
        ("cchc_ingest/", "cchc_normalize/", "cchc_aggregate/", "cchc_runtime/"),
    ),
    ("aiokafka (fetch, decode records, produce)", ("aiokafka",)),
    ("FastStream", ("faststream",)),
    ("kafka-python (lag monitor)", ("kafka/",)),
    ("prometheus_client", ("prometheus_client",)),
    ("HTTP (uvicorn, fastapi, starlette)", ("uvicorn", "fastapi", "starlette", "httpx", "h11")),
    ("asyncio / event loop", ("asyncio/",)),
    ("threading / idle wait", ("threading.py",)),
)
OTHER = "other"


def categorize(stack: Iterable[str]) -> str:
    """The category of one sample, its frames given outermost first (py-spy's order)."""
    frames = list(stack)
    for frame in reversed(frames):
        for name, needles in CATEGORIES:
            if any(n in frame for n in needles):
                return name
    return OTHER


def breakdown(folded: str, top: int = 12) -> dict[str, object]:
    """Share of samples per category, and the hottest leaf functions, of a collapsed profile."""
    by_category: Counter[str] = Counter()
    by_leaf: Counter[str] = Counter()
    total = 0
    for line in folded.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        by_category[categorize(frames)] += count
        by_leaf[frames[-1]] += count
    share = {k: round(100 * v / total, 1) for k, v in by_category.most_common()} if total else {}
    leaves = [
        {"frame": k, "percent": round(100 * v / total, 1)} for k, v in by_leaf.most_common(top)
    ]
    return {"samples": total, "percent_by_category": share, "top_leaf_frames": leaves}


@dataclass
class Profiler:
    """One ``py-spy record`` per service pid, stopped (and written) with SIGINT."""

    out_dir: Path
    rate_hz: int = 100
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @staticmethod
    def available() -> str | None:
        """Path of py-spy (on PATH or next to this Python, e.g. in .venv/bin), or None."""
        return shutil.which("py-spy") or shutil.which(
            "py-spy", path=str(Path(sys.executable).parent)
        )

    def start(self, pids: Mapping[str, int]) -> None:
        """Start recording each pid (non-blocking sampling: the service is not paused)."""
        binary = self.available()
        if binary is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            argv = [
                binary, "record", "--pid", str(pid), "--rate", str(self.rate_hz),
                "--format", "raw", "--output", str(self.out_dir / f"{name}.folded"),
                "--nonblocking", "--threads",
            ]  # fmt: skip
            self.procs[name] = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )

    def stop(self) -> dict[str, dict[str, object]]:
        """Stop recording; returns each service's :func:`breakdown`."""
        summaries: dict[str, dict[str, object]] = {}
        for name, proc in self.procs.items():
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            path = self.out_dir / f"{name}.folded"
            if path.is_file():
                summaries[name] = {"file": str(path), **breakdown(path.read_text())}
            else:
                err = proc.stderr.read().decode(errors="replace")[-500:] if proc.stderr else ""
                summaries[name] = {"error": err or "no profile written"}
        self.procs.clear()
        return summaries
