"""The README's first command: the demo starts, shows its URLs, stops cleanly; --smoke passes."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.e2e.harness import ROOT, free_port

pytestmark = pytest.mark.e2e


def test_demo_smoke_journeys_pass():
    result = subprocess.run([sys.executable, "-m", "devstore.demo", "--smoke"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "journeys passed" in result.stdout


def test_demo_prints_where_to_go_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "devstore.demo", "--port", str(port), "--var-dir", str(tmp_path)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        output = "".join(lines)
        assert "Press Ctrl-C" in output, output
        admin = next(l.split()[-1] for l in lines if "Advocate's panel" in l)
        assert httpx.get(admin, timeout=10).status_code == 200
        mailbox = next(l.split()[-1] for l in lines if "mailbox" in l.lower() and "http" in l)
        assert httpx.get(mailbox, timeout=10).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
        assert "Stopping" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)  # Advocate stopped too
