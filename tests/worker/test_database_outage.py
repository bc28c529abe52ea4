"""A database outage is waited out: the job keeps its attempt and stores its results once.

The end-to-end test stops a PostgreSQL of its own for 30 s while a worker validates 150,000
SNVs, and asks the web for a page meanwhile. pytest-django's database stays on the main
server, so everything that needs the stopped instance runs in processes pointed at it (the
worker, and this module's ``setup_job`` and ``fetch_home_page`` run with ``python -c``), and
the test reads the rows with psycopg.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import OperationalError, connection

from genomeweb.jobs.models import Job, JobKind, JobStatus
from tests.worker.conftest import ROOT, wait_for, worker_env
from worker import tasks
from worker.heartbeat import Heartbeat

MODULE = "tests.worker.test_database_outage"  # as a process started in ROOT imports it
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 5441
DATABASE = "gw_outage"
OUTAGE_SECONDS = 30
OUTAGE_ENV = {
    "GW_JOB_HEARTBEAT_SECONDS": "1",
    # Longer than the outage: nothing may take the job from a worker that merely waits.
    "GW_JOB_STALE_SECONDS": "60",
}


# Handlers with a database that fails on cue, for the in-process tests.


def refuse_queries(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def running_job(workspace, alice) -> Job:
    job = Job.objects.create(workspace=workspace, created_by=alice, kind=JobKind.VALIDATE_VCF)
    Job.claim(job.pk, worker="test@host", task_id="task")
    return Job.objects.get(pk=job.pk)


def handler_losing_the_database(times: int, calls: list):
    """A handler whose first ``times`` runs lose the database; the next one finishes."""

    def handle(job: Job, progress) -> None:
        calls.append(job.attempts)
        if len(calls) <= times:
            raise OperationalError("terminating connection due to administrator command")
        job.finish({"runs": len(calls)})

    return handle


@pytest.mark.django_db(transaction=True)
def test_a_job_that_loses_the_database_runs_again_in_the_same_attempt(running_job, monkeypatch):
    calls: list[int] = []
    monkeypatch.setitem(tasks.HANDLERS, JobKind.VALIDATE_VCF, handler_losing_the_database(2, calls))

    tasks.execute(running_job)

    running_job.refresh_from_db()
    assert running_job.status == JobStatus.SUCCEEDED and running_job.summary == {"runs": 3}
    assert calls == [1, 1, 1] and running_job.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_an_error_that_outlasts_every_redo_goes_to_celery(running_job, monkeypatch):
    calls: list[int] = []
    never = handler_losing_the_database(tasks.DATABASE_REDOS + 1, calls)
    monkeypatch.setitem(tasks.HANDLERS, JobKind.VALIDATE_VCF, never)

    with pytest.raises(OperationalError):  # run_job's autoretry takes it from here
        tasks.execute(running_job)

    assert len(calls) == tasks.DATABASE_REDOS + 1
    assert Job.objects.get(pk=running_job.pk).status == JobStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_a_job_that_finished_as_the_database_went_away_is_not_run_again(running_job, monkeypatch):
    calls: list[int] = []

    def finish_then_lose_the_answer(job: Job, progress) -> None:
        calls.append(job.attempts)
        job.finish({"stored": True})  # committed; only the reply was lost
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setitem(tasks.HANDLERS, JobKind.VALIDATE_VCF, finish_then_lose_the_answer)

    tasks.execute(running_job)

    assert calls == [1]
    assert Job.objects.get(pk=running_job.pk).status == JobStatus.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_progress_goes_unrecorded_while_the_database_is_away(running_job):
    heartbeat = Heartbeat(running_job)  # its thread is not started: only the callback runs
    refused = []

    def count_and_refuse(*args):
        refused.append(args[1])
        refuse_queries(*args)

    with connection.execute_wrapper(count_and_refuse):
        heartbeat.progress(5, 10)  # the work goes on
        heartbeat.progress(10, 10)  # and does not try again until a beat gets through
    assert len(refused) == 1


@pytest.mark.django_db(transaction=True)
def test_progress_inside_a_transaction_reports_the_lost_database(running_job):
    from django.db import transaction

    heartbeat = Heartbeat(running_job)
    with pytest.raises(OperationalError), transaction.atomic():
        with connection.execute_wrapper(refuse_queries):
            heartbeat.progress(5, 10)  # the transaction is lost: the job must redo it


def test_the_heartbeat_retries_soon_after_a_failed_beat(settings):
    settings.JOB_HEARTBEAT_SECONDS = 10
    pauses = [Heartbeat._pause(failures) for failures in range(7)]
    assert pauses == [10, 1, 2, 4, 8, 10, 10]


# A real PostgreSQL stopped under a real worker.


class Postgres:
    """A PostgreSQL cluster of our own in a temporary folder, on PG_PORT."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = f"postgres://postgres@127.0.0.1:{PG_PORT}/{DATABASE}"

    def pg(self, program: str, *args: str) -> None:
        # initdb refuses to run as root; the cluster then belongs to the postgres user.
        as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        command = [*as_owner, str(PG_BIN / program), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.pg("initdb", "-D", str(self.folder / "data"), "-U", "postgres", "--auth=trust")
        self.start()
        with psycopg.connect(self.url.replace(DATABASE, "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def start(self) -> None:
        options = f"-p {PG_PORT} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        data, log = str(self.folder / "data"), str(self.folder / "postgres.log")
        self.pg("pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")

    def query(self, sql: str, *params) -> tuple:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, params).fetchone()


@pytest.fixture
def own_postgres() -> Iterator[Postgres]:
    assert (PG_BIN / "initdb").exists(), f"this test needs PostgreSQL 15 in {PG_BIN}"
    folder = Path(tempfile.mkdtemp(prefix="gw-outage-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    postgres = Postgres(folder)
    postgres.init()
    yield postgres
    try:
        postgres.stop("immediate")
    except subprocess.CalledProcessError:
        pass  # already stopped
    shutil.rmtree(folder, ignore_errors=True)


def setup_job() -> None:
    """Run in a process pointed at the outage instance: the user, the 150,000-SNV job (sent to
    the broker on commit), a logged-in session; prints their ids as JSON."""
    from django.contrib.auth.models import User
    from django.test import Client

    from genomeweb.workspaces.models import Membership, Role, Workspace
    from tests.worker.test_worker_faults import submit_big_vcf

    alice = User.objects.create_user("alice", "alice@example.org", "not used")
    workspace = Workspace.objects.create(name="Outage lab", created_by=alice)
    Membership.objects.create(workspace=workspace, user=alice, role=Role.OWNER)
    variant_set, expected = submit_big_vcf(workspace, alice)
    client = Client()
    client.force_login(alice)
    session = client.cookies["sessionid"].value
    ids = {"job": variant_set.validation_job_id, "variant_set": variant_set.pk}
    print(json.dumps(ids | {"expected": expected, "session": session}))


def fetch_home_page(session: str) -> None:
    """Run in a process pointed at the outage instance: GET / as the session's member."""
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session
    response = client.get("/")
    page = response.content.decode()
    print(
        json.dumps(
            {
                "status": response.status_code,
                "retry_after": response.get("Retry-After"),
                "friendly": "genomeweb is back in a moment" in page,
                "logged_in": "alice" in page,
            }
        )
    )


def run_here(env: dict, function: str, *args: str) -> dict:
    """Call one of this module's functions in a fresh Django process; returns its JSON."""
    call = f"{function}({', '.join(map(repr, args))})"
    code = f"import django; django.setup(); from {MODULE} import {function}; {call}"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def migrate(env: dict) -> None:
    command = [sys.executable, "manage.py", "migrate", "--noinput"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)


@pytest.mark.slow
def test_a_job_waits_out_a_stopped_database_and_finishes_once(own_postgres, start_worker, tmp_path):
    env = worker_env(DATABASE_URL=own_postgres.url, **OUTAGE_ENV)
    migrate(env)
    made = run_here(env, "setup_job")
    job_row = "SELECT status, attempts, progress_done, error FROM jobs_job WHERE id = %s"
    start_worker("survivor", DATABASE_URL=own_postgres.url, **OUTAGE_ENV)
    wait_for(
        lambda: own_postgres.query(job_row, made["job"])[2] > 0, 180, "the job to make progress"
    )

    own_postgres.stop()
    stopped = time.monotonic()
    during = run_here(env, "fetch_home_page", made["session"])
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    own_postgres.start()

    assert during == {"status": 503, "retry_after": "30", "friendly": True, "logged_in": False}
    wait_for(lambda: own_postgres.query(job_row, made["job"])[0] != "running", 300, "the job")
    status, attempts, _, error = own_postgres.query(job_row, made["job"])
    assert (status, error) == (JobStatus.SUCCEEDED, "")
    assert attempts == 1, "waiting for the database counted as an attempt"
    variants = own_postgres.query(
        "SELECT count(*) FROM variants_variant WHERE variant_set_id = %s", made["variant_set"]
    )
    assert variants == (made["expected"],)  # stored once, none lost
    artifacts = own_postgres.query(
        "SELECT count(*) FROM results_artifact WHERE job_id = %s", made["job"]
    )
    assert artifacts == (4,)  # three files and provenance.json
    log = (tmp_path / "survivor.log").read_text()
    assert "lost the database; waiting for it" in log  # the outage hit the job, not a gap
    after = run_here(env, "fetch_home_page", made["session"])
    assert after["status"] == 200 and after["logged_in"]  # the outage logged nobody out
