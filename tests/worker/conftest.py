"""Real worker processes for end-to-end tests: Celery on the local Redis, the test PostgreSQL."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a worker that shares this test's database, broker and files."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return (
        os.environ
        | {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "GW_VAR_DIR": str(settings.VAR_DIR),
            "GW_RESULTS_DIR": str(settings.RESULTS_DIR),
            "GW_UPLOAD_DIR": str(settings.UPLOAD_DIR),
        }
        | extra
    )


@pytest.fixture
def clean_broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield
    client.flushdb()


@pytest.fixture
def start_worker(tmp_path, clean_broker):
    """``start_worker(name, **env)`` starts a Celery worker in its own process group."""
    procs: list[subprocess.Popen] = []

    def start(name: str, **extra: str) -> subprocess.Popen:
        log = (tmp_path / f"{name}.log").open("w")
        proc = subprocess.Popen(
            [
                CELERY,
                "-A",
                "genomeweb",
                "worker",
                "-Q",
                "gpu",
                "-I",
                "worker.tasks",
                "--pool=prefork",
                "--concurrency=1",
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=worker_env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        kill_group(proc, signal.SIGKILL)


def kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    proc.wait(timeout=30)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
