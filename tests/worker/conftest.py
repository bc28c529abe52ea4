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


@pytest.fixture
def tiny_yeast_dir(tmp_path):
    """A randomly initialised, tiny YeastNet checkpoint (1,024 bp in, 24 bins of 32 bp out)
    whose output responds to single-base changes."""
    import torch

    from worker.adapters.yeast_net import YeastNet, YeastNetConfig
    from worker.training.train import save_checkpoint

    torch.manual_seed(0)
    config = YeastNetConfig(
        sequence_length=1024,
        crop_bp=128,
        stem_channels=8,
        tower_channels=(8, 8, 8, 8, 16, 16),
        transformer_layers=2,
        heads=2,
        unet_channels=8,
        dropout=0.0,
    )
    model = YeastNet(config)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):  # statistics as after training
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
            elif isinstance(module, torch.nn.Conv1d | torch.nn.Linear):
                # Default init leaves the output nearly blind to the sequence (a whole other
                # sequence moves no bin by 3e-5); doubled, an SNV moves bins by ~0.02, so
                # 1e-5 comparisons can tell a right alternative from a wrong one.
                module.weight.mul_(2)
    directory = tmp_path / "tiny-yeast"
    save_checkpoint(model.eval(), directory, {"note": "test fixture"})
    return directory
