"""A broker restart is not a crash: the worker that lived keeps its attempt and finishes once.

Each test runs its own redis-server, kills it with SIGKILL while a worker validates a large VCF,
and starts it again on the same port; before Celery's task cancellation on connection loss was
turned off, the first restart threw the running attempt away.
"""

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from genomeweb.celery import app
from genomeweb.jobs.enqueue import JOB_QUEUE, RUN_JOB_TASK
from genomeweb.jobs.models import Job, JobStatus
from genomeweb.results.models import Artifact
from genomeweb.variants.models import Variant
from tests.worker.conftest import wait_for
from tests.worker.test_worker_faults import FAST_RECOVERY, submit_big_vcf

REDIS_PORT = 6391
BROKER_DOWN_SECONDS = 10
SHORT_BLIP_SECONDS = 1  # three of them, each followed by a reconnect, fit in one job
RECONNECTED = "Connected to redis://"  # a Celery worker's log line
NO_PERSISTENCE = ("--save", "", "--appendonly", "no")
# docker-compose.yml's Redis: unacked messages survive the restart and come back.
APPEND_ONLY = ("--save", "", "--appendonly", "yes", "--appendfsync", "always")


class Broker:
    """A redis-server of our own that can be killed and started again on the same port."""

    def __init__(self, folder: Path, persistence: tuple[str, ...]) -> None:
        self.folder, self.persistence = folder, persistence
        self.url = f"redis://127.0.0.1:{REDIS_PORT}/0"
        self.proc: subprocess.Popen | None = None
        self.log = (folder / "redis.log").open("a")

    def start(self) -> None:
        command = ["redis-server", "--port", str(REDIS_PORT), "--dir", str(self.folder)]
        self.proc = subprocess.Popen([*command, *self.persistence], stdout=self.log)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _answers(client), 30, "redis-server to start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)  # no goodbye, no final save
        self.proc.wait(timeout=30)

    def restart(self, down_for: float) -> None:
        self.kill()
        time.sleep(down_for)
        self.start()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture
def own_broker(tmp_path) -> Iterator:
    """``own_broker(persistence)`` starts a redis-server on REDIS_PORT in a tmp folder."""
    assert shutil.which("redis-server"), "these tests need redis-server on PATH"
    brokers: list[Broker] = []

    def start(persistence: tuple[str, ...]) -> Broker:
        folder = tmp_path / "redis"
        folder.mkdir()
        broker = Broker(folder, persistence)
        broker.start()
        brokers.append(broker)
        return broker

    yield start
    for broker in brokers:
        if broker.proc and broker.proc.poll() is None:
            broker.kill()


def send_to(broker: Broker, job: Job) -> None:
    """Publish the job on our broker (the submission sent it to the test settings' one)."""
    with app.connection_for_write(broker.url) as connection:
        app.send_task(RUN_JOB_TASK, args=[job.pk], queue=JOB_QUEUE, connection=connection)


def running_with_progress(job: Job) -> bool:
    row = Job.objects.get(pk=job.pk)
    return row.status == JobStatus.RUNNING and row.progress_done > 0


def restart_broker(broker: Broker, worker_log: Path, down_for: float) -> None:
    """Take the broker away, bring it back, and wait until the worker has reconnected."""
    connected = worker_log.read_text().count(RECONNECTED)
    broker.restart(down_for)
    wait_for(
        lambda: worker_log.read_text().count(RECONNECTED) > connected, 60, "the worker to reconnect"
    )


def assert_finished_once(job: Job, variant_set, expected: int) -> None:
    wait_for(lambda: Job.objects.get(pk=job.pk).is_final, 300, "the job to finish")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 1, "a broker restart counted as an attempt"
    assert Variant.objects.filter(variant_set=variant_set).count() == expected
    assert Artifact.objects.filter(job=job).count() == 4  # three files and provenance.json


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_running_job_survives_a_broker_restart_without_a_new_attempt(
    start_worker, own_broker, alice, workspace, tmp_path
):
    broker = own_broker(NO_PERSISTENCE)
    variant_set, expected = submit_big_vcf(workspace, alice)
    job = variant_set.validation_job
    send_to(broker, job)
    start_worker("lives", CELERY_BROKER_URL=broker.url, **FAST_RECOVERY)

    wait_for(lambda: running_with_progress(job), 120, "the job to make progress")
    restart_broker(broker, tmp_path / "lives.log", BROKER_DOWN_SECONDS)

    # The job was not thrown away: the same attempt still runs (or already finished).
    row = Job.objects.get(pk=job.pk)
    assert row.attempts == 1 and row.status in (JobStatus.RUNNING, JobStatus.SUCCEEDED)
    assert_finished_once(job, variant_set, expected)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_three_broker_restarts_in_one_job_do_not_fail_it(
    start_worker, own_broker, alice, workspace, tmp_path
):
    # With Redis's append-only file the job's unacked message outlives each restart and comes
    # back after the (short) visibility timeout: a second worker gets it, finds the job held by
    # a live worker, and must neither count an attempt nor run it again.
    broker = own_broker(APPEND_ONLY)
    # four times the usual SNVs (~5 s here): long enough for three restarts
    variant_set, expected = submit_big_vcf(workspace, alice, 600_000, name="long")
    job = variant_set.validation_job
    send_to(broker, job)
    start_worker("lives", CELERY_BROKER_URL=broker.url, **FAST_RECOVERY)
    wait_for(lambda: running_with_progress(job), 120, "the job to make progress")
    start_worker("idle", CELERY_BROKER_URL=broker.url, **FAST_RECOVERY)

    restarts_while_running = 0
    for _ in range(3):
        if Job.objects.get(pk=job.pk).status != JobStatus.RUNNING:
            break
        restart_broker(broker, tmp_path / "lives.log", SHORT_BLIP_SECONDS)
        restarts_while_running += 1

    assert restarts_while_running == 3, "the job finished before the third restart"
    assert_finished_once(job, variant_set, expected)
    assert Job.objects.get(pk=job.pk).worker.startswith("lives@")
    assert received_while_busy((tmp_path / "lives.log").read_text()) == 0


def received_while_busy(log: str) -> int:
    """Messages a worker took between taking its first task and finishing it."""
    lines = log.splitlines()
    first = next(n for n, line in enumerate(lines) if line.endswith(" received"))
    done = next(n for n, line in enumerate(lines) if " succeeded in " in line)
    return sum(line.endswith(" received") for line in lines[first + 1 : done])
