"""Proof of life for a running job, and the cancellation check that rides along with it."""

import copy
import logging
import threading
import time
from types import TracebackType

from django.conf import settings
from django.db import connection

from genomeweb.jobs.models import Job
from worker.errors import DATABASE_ERRORS, JobCancelled

logger = logging.getLogger(__name__)

# The job page polls every 2 s; a write every 0.5 s took 1.5 % of a cheap model's scoring
# time (an UPDATE of the job row each, py-spy, bench/bench_260k.py).
PROGRESS_EVERY_SECONDS = 2.0
FIRST_RETRY_SECONDS = 1.0  # after a failed beat; doubles up to the usual interval


class Heartbeat:
    """A background thread beats every ``GW_JOB_HEARTBEAT_SECONDS`` while the job runs.

    A thread, not the progress callback, because one model forward pass can take longer than the
    sweeper's patience. ``progress`` is the callback handed to the pipeline: it records progress
    (throttled) and raises JobCancelled once a member asked to cancel.
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self._stop = threading.Event()
        self._cancelled = threading.Event()
        # Set while the database does not answer: progress writes wait for the beat to get
        # through again rather than each try to connect (and maybe hang) on the job's time.
        self._database_away = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job.pk}", daemon=True)
        self._last_progress = 0.0

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, tb: TracebackType | None):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        beat_job = copy.copy(self.job)  # the thread's own instance; same pk and attempt
        failures = 0
        try:
            while not self._stop.wait(self._pause(failures)):
                if not self._beat_once(beat_job):
                    failures += 1
                    continue
                if failures:
                    logger.info("heartbeat for job %s is back (%s failed)", beat_job.pk, failures)
                failures = 0
        finally:
            connection.close()  # this thread's own connection

    @staticmethod
    def _pause(failures: int) -> float:
        """The usual interval; after failed beats a shorter one that doubles back up to it, so
        the beat resumes within a second or two of the database's return, long before the
        sweeper's patience (``GW_JOB_STALE_SECONDS``) runs out."""
        if failures == 0:
            return settings.JOB_HEARTBEAT_SECONDS
        return min(settings.JOB_HEARTBEAT_SECONDS, FIRST_RETRY_SECONDS * 2 ** (failures - 1))

    def _beat_once(self, beat_job: Job) -> bool:
        """One beat. Returns whether it reached the database."""
        try:
            if beat_job.beat():
                self._cancelled.set()
        except Exception:  # a database blip must not kill the thread; the next beat may work
            if not self._database_away.is_set():  # one warning per outage, not one per retry
                logger.warning("heartbeat for job %s failed", beat_job.pk, exc_info=True)
            self._database_away.set()
            connection.close()
            return False
        self._database_away.clear()
        return True

    def progress(self, done: int, total: int) -> None:
        if self._cancelled.is_set():
            raise JobCancelled()
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_EVERY_SECONDS or done >= total:
            self._last_progress = now
            self._record_progress(done, total)

    def _record_progress(self, done: int, total: int) -> None:
        """Progress is for the page: while the database is away the work goes on without it.
        Inside a transaction the error must reach the job, whose transaction is lost anyway."""
        if self._database_away.is_set():
            return
        try:
            self.job.set_progress(done, total)
        except DATABASE_ERRORS:
            if connection.in_atomic_block:
                raise
            logger.warning("job %s goes on without recording progress: no database", self.job.pk)
            self._database_away.set()  # until the next beat gets through
            connection.close()  # that write opens a fresh connection
