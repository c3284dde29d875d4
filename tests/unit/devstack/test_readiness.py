"""A service instance is ready only when its own process answers /readyz: another process that
took its port (the instance then cannot bind it) answering 200 there does not make it ready."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cchc_devstack.ports import HOST
from cchc_devstack.stack import Stack, StackConfig
from cchc_devstack.supervisor import Managed

from tests.conftest import free_port_block

READY = """
import http.server, sys
class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'{"ready": true}')
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ready)
print("serving", flush=True)
server.serve_forever()
"""


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(StackConfig(data_dir=tmp_path, api_port=free_port_block(3)), say=print)
    yield stack
    for managed in stack.services.values():
        managed.stop(timeout_s=5)


def instance(stack: Stack, argv: list[str], port: int) -> Managed:
    env = {"CCHC_INGEST_PORT": str(port)}
    managed = Managed("ingest", argv, env, stack.logs / "ingest.log", service="ingest")
    managed.start()
    stack.services["ingest"] = managed
    return managed


def test_an_instance_answering_on_its_port_is_ready(stack: Stack) -> None:
    port = stack.config.port_of("ingest", 1)
    ingest = instance(stack, [sys.executable, "-u", "-c", READY, str(port)], port)
    while not ingest.listens(HOST, port):
        assert ingest.exited() is None, ingest.output()
        time.sleep(0.05)
    assert stack.readiness() == {"ingest": True}


def test_another_process_answering_on_the_instances_port_does_not_make_it_ready(
    stack: Stack,
) -> None:
    port = stack.config.port_of("ingest", 1)
    other = subprocess.Popen([sys.executable, "-u", "-c", READY, str(port)], stdout=subprocess.PIPE)
    try:
        assert other.stdout is not None
        assert other.stdout.readline() == b"serving\n"
        # The instance itself never got the port (here: it does not listen at all).
        instance(stack, [sys.executable, "-c", "import time; time.sleep(60)"], port)
        assert stack.readiness() == {"ingest": False}
    finally:
        other.kill()
        other.wait()
