"""The README's demo (scripts/demo.sh) as a fixture: the embedded default (SQLite + filesystem
broker) with a real worker process, on a free port and its own var/ folder. Registered in
tests/conftest.py; used by the browser tests and the API example's test."""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except OSError:
        return False


def demo_env(var_dir: Path) -> dict:
    """The environment of a demo process: its own var/ folder, none of the test settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return env | {"GW_VAR_DIR": str(var_dir)}


@pytest.fixture
def demo_site(tmp_path):
    """Start scripts/demo.sh with its own var/ folder; yield its base URL and log file."""
    with running_demo(tmp_path) as site:
        yield site


@contextlib.contextmanager
def running_demo(folder: Path, extra_env: dict[str, str] | None = None):
    """scripts/demo.sh with its var/ and log under ``folder`` (``extra_env`` on top of
    ``demo_env``), until the with-block ends: ``(base URL, log file)``."""
    port = free_port()
    log_path = folder / "demo.log"
    env = demo_env(folder / "var") | (extra_env or {}) | {"GW_PORT": str(port)}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            ["bash", "scripts/demo.sh"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while not is_up(f"{url}/accounts/login/"):
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the demo did not start within 300 s"
            time.sleep(0.5)
        yield url, log_path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
