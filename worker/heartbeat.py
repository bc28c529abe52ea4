"""Proof of life for a running job, and the cancellation check that rides along with it."""

import copy
import logging
import threading
import time
from types import TracebackType

from django.conf import settings
from django.db import connection

from genomeweb.jobs.models import Job
from worker.errors import JobCancelled

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5


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
        try:
            while not self._stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                self._beat_once(beat_job)
        finally:
            connection.close()  # this thread's own connection

    def _beat_once(self, beat_job: Job) -> None:
        try:
            if beat_job.beat():
                self._cancelled.set()
        except Exception:  # a database blip must not kill the thread; the next beat may work
            logger.warning("heartbeat for job %s failed", beat_job.pk, exc_info=True)
            connection.close()

    def progress(self, done: int, total: int) -> None:
        if self._cancelled.is_set():
            raise JobCancelled()
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_EVERY_SECONDS or done >= total:
            self._last_progress = now
            self.job.set_progress(done, total)
