"""The Vietnamese guide for provincial IT staff (docs/vi/): its examples run and say the truth.

- The example events are accepted by ingest's and normalize's own checks, and each line of the
  error examples is rejected with the reason the guide's table gives for it.
- The Java client compiles with javac (skipped, saying so, when no JDK is installed) and runs
  against a local stand-in for ingest: batches, the bearer token from a file, Retry-After on 429,
  exit codes.
- `examples/https.sh` runs with curl against the same stand-in; every `curl` and `kcat` command
  in the pages is valid bash and has the shape the contract needs (the right paths, the token
  never on the command line, `--data-binary`, known librdkafka properties, a real topic).
- Every relative link and anchor in the pages resolves.

The example file pushed to the real stack and counted in the province's summary:
tests/e2e/test_guide_kafka.py.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cchc_ingest.steps.validate import Accepted, validate
from cchc_normalize.steps.canonicalize import Reference, canonicalize, vietnam_today
from cchc_shared.dlq import Reason
from cchc_shared.provinces import Era, default_registry
from cchc_shared.reasons import REASONS

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "vi"
EXAMPLES = GUIDE / "examples"
PAGES = sorted(GUIDE.glob("*.md"))
TOKEN = "cchc_" + "T" * 43
CODES = {u.code for u in default_registry().units(Era.POST_2025)}


# --- the example events ---------------------------------------------------------------------


def _verdict(line: bytes) -> str:
    """What the pipeline does with `line` pushed to cchc.raw.15: 'ok' or the reason code."""
    checked = validate(line, "15", default_registry())
    if not isinstance(checked, Accepted):
        return str(checked.reason)
    result = canonicalize(line, Reference.load(), vietnam_today())
    reason = getattr(result, "reason", None)
    return "ok" if reason is None else str(reason)


def test_the_example_events_are_accepted() -> None:
    lines = (EXAMPLES / "events.jsonl").read_bytes().splitlines()
    assert len(lines) == 5
    assert [_verdict(line) for line in lines] == ["ok"] * 5


def test_each_error_example_gets_the_reason_the_guide_gives() -> None:
    page = (GUIDE / "events.md").read_text("utf-8")
    section = page.split("## Các lỗi thường gặp", 1)[1]
    table = re.findall(r"^\| (\d+) \| .* \| `([a-z_]+)` \|$", section, re.MULTILINE)
    lines = (EXAMPLES / "errors.jsonl").read_bytes().splitlines()
    assert [int(n) for n, _ in table] == list(range(1, len(lines) + 1))
    assert [_verdict(line) for line in lines] == [reason for _, reason in table]
    assert all(Reason(reason) in REASONS for _, reason in table)


# --- a stand-in for ingest's HTTP routes ----------------------------------------------------


@dataclass
class Seen:
    """The requests the stand-in received, and what it should answer next."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    throttle_first: int = 0


def _answer(path: str, body: bytes) -> dict[str, Any]:
    lines = [ln for ln in body.decode("utf-8").split("\n") if ln.strip()]
    results = []
    for n, line in enumerate(lines, start=1):
        if '"loi-' in line:
            results.append({"line": n, "status": "rejected", "reason": "bad_number", "errors": []})
        else:
            results.append({"line": n, "status": "queued"})
    accepted = sum(r["status"] == "queued" for r in results)
    return {"accepted": accepted, "results": results} if path.startswith("/v1/") else {}


@pytest.fixture
def ingest() -> Iterator[tuple[str, Seen]]:
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "auth": self.headers.get("Authorization"),
                    "type": self.headers.get("Content-Type"),
                    "body": body,
                }
            )
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._json(401, {"error": "unauthorized", "detail": "no"})
            elif seen.throttle_first > 0:
                seen.throttle_first -= 1
                self._json(429, {"error": "paused", "detail": "wait"}, {"Retry-After": "0"})
            else:
                self._json(200, _answer(self.path, body))

        do_GET = do_POST = _handle

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


def _env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCHC_")}
    env.update(
        CCHC_INGEST_URL=url,
        CCHC_API_URL=url,
        CCHC_TOKEN_FILE=str(_token_file(tmp_path)),
        HOME=str(tmp_path),
        **extra,
    )
    return env


# --- the Java client ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def java_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    javac = shutil.which("javac")
    if javac is None:
        pytest.skip("no JDK on this machine (javac not found): the Java example was not compiled")
    out = tmp_path_factory.mktemp("java")
    source = EXAMPLES / "java" / "PushEvents.java"
    done = subprocess.run(
        [javac, "-Xlint:all", "-Werror", "-encoding", "UTF-8", "-d", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "PushEvents.class").is_file()
    return out


def _java(classes: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    java = shutil.which("java")
    assert java is not None, "javac without java"
    return subprocess.run(
        [java, "-cp", str(classes), "PushEvents", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_java_client_pushes_the_file_with_the_token(
    java_classes: Path, ingest: tuple[str, Seen], tmp_path: Path
) -> None:
    url, seen = ingest
    seen.throttle_first = 1  # a 429 with Retry-After: 0 first, then the batch again
    done = _java(java_classes, _env(tmp_path, url), str(EXAMPLES / "events.jsonl"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["path"] for r in seen.requests] == ["/v1/events", "/v1/events"]
    last = seen.requests[-1]
    assert last["method"] == "POST"
    assert last["auth"] == f"Bearer {TOKEN}"
    assert last["type"] == "application/x-ndjson"
    assert last["body"] == (EXAMPLES / "events.jsonl").read_bytes()
    assert "nhận 5 dòng, từ chối 0 dòng" in done.stdout
    assert TOKEN not in done.stdout + done.stderr


def test_java_client_validates_and_reports_rejections(
    java_classes: Path, ingest: tuple[str, Seen], tmp_path: Path
) -> None:
    url, seen = ingest
    done = _java(java_classes, _env(tmp_path, url), "--validate", str(EXAMPLES / "errors.jsonl"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert [r["path"] for r in seen.requests] == ["/v1/validate"]
    assert "từ chối 6 dòng" in done.stdout


def test_java_client_stops_on_a_bad_token_and_batches_big_files(
    java_classes: Path, ingest: tuple[str, Seen], tmp_path: Path
) -> None:
    url, seen = ingest
    env = _env(tmp_path, url)
    (tmp_path / "token").write_text("cchc_" + "X" * 43)
    done = _java(java_classes, env, str(EXAMPLES / "events.jsonl"))
    assert done.returncode == 2
    assert "401" in done.stderr
    (tmp_path / "token").write_text(TOKEN)
    line = (EXAMPLES / "events.jsonl").read_text("utf-8").splitlines()[0]
    big = tmp_path / "big.jsonl"
    big.write_text("\n".join([line] * 2500) + "\n", "utf-8")
    seen.requests.clear()
    done = _java(java_classes, env, str(big))
    assert done.returncode == 0, done.stderr
    sizes = [r["body"].count(b"\n") for r in seen.requests]
    assert sizes == [1000, 1000, 500]
    assert "Lô dòng 2001–2500" in done.stdout


# --- curl -------------------------------------------------------------------------------------


def _https_sh(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(EXAMPLES / "https.sh"), *args],
        env=env,
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_https_sh_runs_every_call_with_curl(ingest: tuple[str, Seen], tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed: examples/https.sh was only syntax-checked")
    url, seen = ingest
    env = _env(tmp_path, url)
    for args in (
        ("push", "events.jsonl"),
        ("validate", "errors.jsonl"),
        ("summary",),
        ("dead-letters", "bad_number"),
    ):
        done = _https_sh(env, *args)
        assert done.returncode == 0, (args, done.stderr)
    paths = [(r["method"], r["path"]) for r in seen.requests]
    assert paths == [
        ("POST", "/v1/events"),
        ("POST", "/v1/validate"),
        ("GET", "/v1/my/summary"),
        ("GET", "/v1/my/dead-letters?limit=100&reason=bad_number"),
    ]
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in seen.requests)
    assert seen.requests[0]["body"] == (EXAMPLES / "events.jsonl").read_bytes()  # newlines kept
    assert seen.requests[0]["type"] == "application/x-ndjson"


def test_https_sh_fails_on_401(ingest: tuple[str, Seen], tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    url, _ = ingest
    env = _env(tmp_path, url)
    (tmp_path / "token").write_text("cchc_wrong\n")
    done = _https_sh(env, "summary")
    assert done.returncode != 0
    assert "unauthorized" in done.stdout + done.stderr


# --- every shell example in the pages --------------------------------------------------------


def _shell_blocks() -> list[tuple[str, str]]:
    blocks = []
    for page in PAGES:
        text = page.read_text("utf-8")
        blocks += [(page.name, b) for b in re.findall(r"```bash\n(.*?)```", text, re.DOTALL)]
    for script in ("https.sh", "kafka.sh"):
        blocks.append((script, (EXAMPLES / script).read_text("utf-8")))
    return blocks


def _commands(block: str, program: str) -> list[list[str]]:
    """Each invocation of `program` in `block`, as words (continuations joined)."""
    joined = block.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        for part in re.split(r"\|(?!\|)", line):
            try:
                words = shlex.split(part.strip(), comments=True)
            except ValueError:  # a pipe inside quotes cut this part: not a command of ours
                continue
            if words and words[0] == program:
                found.append(words)
    return found


@pytest.mark.parametrize(("where", "block"), _shell_blocks())
def test_shell_examples_are_valid_bash(where: str, block: str) -> None:
    done = subprocess.run(
        ["bash", "-n"], input=block, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, (where, done.stderr)
    assert not re.search(r"cchc_[A-Za-z0-9_-]{20,}", block), f"{where}: a literal token"


ROUTES = {"/v1/events", "/v1/validate", "/v1/my/summary", "/v1/my/dead-letters"}


def test_curl_examples_have_the_contract_shape() -> None:
    calls = [(w, c) for w, b in _shell_blocks() for c in _commands(b, "curl")]
    assert len(calls) >= 7
    for where, words in calls:
        urls = [w for w in words if "/v1/" in w]
        assert len(urls) == 1, (where, words)
        path = "/v1/" + urls[0].split("/v1/", 1)[1]
        assert path.split("?")[0] in ROUTES | {"/v1/${path}"}, (where, path)
        assert "--config" in words, f"{where}: the token goes through --config -, not argv"
        assert words[words.index("--config") + 1] == "-"
        assert not any(w.lower().startswith("authorization") for w in words), where
        assert "-d" not in words, f"{where}: -d strips newlines; use --data-binary"
        assert "--data" not in words, where
        if path in ("/v1/events", "/v1/validate"):
            assert "--data-binary" in words, where
            assert "--header" in words, where
            content_type = words[words.index("--header") + 1]
            assert content_type in (
                "Content-Type: application/x-ndjson",
                "Content-Type: application/json",
            )
        assert "--fail-with-body" in words, f"{where}: a 4xx must fail the command"


# librdkafka properties the examples may use (CONFIGURATION.md of librdkafka).
LIBRDKAFKA = {
    "bootstrap.servers",
    "security.protocol",
    "sasl.mechanisms",
    "sasl.username",
    "sasl.password",
    "ssl.ca.location",
    "acks",
}
KCAT_FLAGS = {"-P", "-b", "-t", "-X", "-l", "-F", "-K"}


def test_kcat_examples_have_the_contract_shape() -> None:
    calls = [(w, c) for w, b in _shell_blocks() for c in _commands(b, "kcat")]
    assert len(calls) >= 5
    for where, words in calls:
        assert "-P" in words, f"{where}: kcat must produce"
        flags = [w for w in words if w.startswith("-")]
        assert set(flags) <= KCAT_FLAGS, (where, flags)
        topic = words[words.index("-t") + 1]
        assert topic in ("cchc.raw.15", "$topic"), (where, topic)
        for i, word in enumerate(words):
            if word == "-X":
                name, _, value = words[i + 1].partition("=")
                assert name in LIBRDKAFKA, (where, name)
                assert value
        assert "-X" in words, where
        assert "acks=all" in words, f"{where}: acks=all"
        assert ("-F" in words) != ("-b" in words), f"{where}: either a config file or a broker"
        if "-b" in words:
            assert words[words.index("-b") + 1].startswith(("127.0.0.1:", "${CCHC_KAFKA_"))


def test_kafka_settings_files_use_real_property_names() -> None:
    example = (EXAMPLES / "province.properties.example").read_text("utf-8")
    pairs = [
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    ]
    assert {k for k, _ in pairs} == LIBRDKAFKA - {"acks"}
    settings = dict(pairs)
    assert settings["security.protocol"] == "SASL_SSL"
    assert settings["sasl.mechanisms"] == "SCRAM-SHA-512"
    assert settings["sasl.username"] == "province-15"
    assert settings["bootstrap.servers"].endswith(":9094")
    page = (GUIDE / "kafka.md").read_text("utf-8")
    block = re.findall(r"```properties\n(.*?)```", page, re.DOTALL)
    assert block[0].strip() == "\n".join(f"{k}={v}" for k, v in pairs)
    java = dict(line.split("=", 1) for line in block[1].strip().splitlines())
    assert java["security.protocol"] == "SASL_SSL"
    assert java["sasl.mechanism"] == "SCRAM-SHA-512"
    assert "ScramLoginModule required" in java["sasl.jaas.config"]
    assert java["acks"] == "all"


def test_every_topic_named_in_the_guide_is_a_province_topic() -> None:
    for page in PAGES:
        for code in re.findall(r"cchc\.raw\.(\d{2})\b", page.read_text("utf-8")):
            assert code in CODES, (page.name, code)


# --- the pages ----------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = path.read_text("utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_resolve(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text("utf-8"), flags=re.DOTALL)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        assert path.exists(), (page.name, target)
        if anchor and path.suffix == ".md":
            assert anchor in _anchors(path), (page.name, target)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_are_vietnamese_nfc(page: Path) -> None:
    text = page.read_text("utf-8")
    assert unicodedata.normalize("NFC", text) == text
    assert len(re.findall(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỵỷỹđ]", text.lower())) > 50


def test_the_guide_covers_what_the_issue_asks() -> None:
    pages = {p.name for p in PAGES}
    assert {"README.md", "token.md", "https.md", "kafka.md", "events.md", "reasons.md"} <= pages
    assert "dead-letters.md" in pages
    readme = (GUIDE / "README.md").read_text("utf-8")
    for page in pages - {"README.md"}:
        assert f"]({page})" in readme, f"README.md does not link {page}"
    events_page = (GUIDE / "events.md").read_text("utf-8")
    for name in ("IndicatorReport", "DossierEvent"):
        model = __import__("cchc_shared.events", fromlist=[name]).__dict__[name]
        for field_name, field_info in model.model_fields.items():
            assert f"`{field_info.alias or field_name}`" in events_page, field_name
