"""The Job row is the truth about a piece of work; Celery messages only carry its id."""

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, Min, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from genomeweb.lib.durations import duration_text
from genomeweb.workspaces.models import READ_ROLES, WRITE_ROLES, Workspace

if TYPE_CHECKING:  # results.models imports this module
    from genomeweb.results.models import Artifact


class JobKind(models.TextChoices):
    VALIDATE_VCF = "validate_vcf", "VCF validation"
    SCORE_VARIANTS = "score_variants", "Variant effects"
    VARIANT_TRACKS = "variant_tracks", "Predicted tracks around a variant"
    SCORE_VARIANTS_PART = "score_variants_part", "Variant effects (one part)"
    ISM = "ism", "In silico mutagenesis"
    SALIENCY = "saliency", "Gradient saliency"
    ATTENTION = "attention", "Attention map"
    DESIGN_PREDICT = "design_predict", "Prediction of a sequence design"
    BUNDLE = "bundle", "Result bundle"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    WAITING = "waiting", "Running in parts"  # no worker holds it; its parts run
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


STOPPED_BEATING = "stopped sending heartbeats (killed with its host, lost, or hung)"
FINAL_STATES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
PROVENANCE_FILE = "provenance.json"  # the artifact holding a copy of Job.provenance


class FailureReason(models.TextChoices):
    """Why a job failed, for the administrator (the user reads ``Job.error``)."""

    INPUT = "input", "Unusable input"
    ACCESS = "access", "Submitter lost access"
    STORAGE_FULL = "storage_full", "Results storage full"
    STORAGE_QUOTA = "storage_quota", "Results storage quota exceeded"
    STORAGE_READ_ONLY = "storage_read_only", "Results storage read-only"
    STORAGE_PERMISSION = "storage_permission", "Results storage not writable (permissions)"
    OUT_OF_MEMORY = "out_of_memory", "Out of memory"
    WORKER_CRASHED = "worker_crashed", "Worker process died on every attempt"
    TIME_LIMIT = "time_limit", "Time limit"
    PART_FAILED = "part_failed", "A part failed"
    INTERNAL = "internal", "Internal error (see the worker log)"


class Claim(models.TextChoices):
    """What a worker learns when it tries to take a job."""

    CLAIMED = "claimed"  # the worker now owns the job and runs it
    BUSY = "busy"  # another worker holds it and is alive: look again later
    GONE = "gone"  # final, cancelled or failed by the attempt guard: drop the message


def idempotency_key(prefix: str, params: dict) -> str:
    """``prefix:digest`` of the parameters: the same analysis gets the same key, and any
    parameters (long track lists, many ids) fit the column."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:40]
    return f"{prefix}:{digest}"


class JobQuerySet(models.QuerySet):
    def for_user(self, user) -> "JobQuerySet":
        return self.filter(workspace__memberships__user=user)

    def stale_running(self, now) -> "JobQuerySet":
        cutoff = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
        return self.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff)

    def stale_queued(self, now) -> "JobQuerySet":
        cutoff = now - timedelta(seconds=settings.JOB_QUEUED_STALE_SECONDS)
        return self.filter(status=JobStatus.QUEUED, queued_at__lt=cutoff)


class Job(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True)
    kind = models.CharField(max_length=30, choices=JobKind.choices)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    parent = models.ForeignKey(
        "self",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="parts",
        help_text="The job this one is a part of (large jobs run as parts across workers)",
    )
    idempotency_key = models.CharField(max_length=100, blank=True)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True, help_text="Shown to the user when the job failed")
    failure_reason = models.CharField(max_length=30, choices=FailureReason.choices, blank=True)
    failure_detail = models.TextField(
        blank=True, help_text="For the administrator: the technical cause (exception, signal)"
    )
    crashes = models.JSONField(
        default=list,
        blank=True,
        help_text="One entry per attempt whose worker process died: how, and what it was doing",
    )
    working_on = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the running attempt works on now (e.g. a checkpoint chunk's records), "
        "so a crash can name its culprit",
    )
    summary = models.JSONField(default=dict, blank=True)
    provenance = models.JSONField(
        default=dict,
        blank=True,
        help_text="What produced the results: code, model, genome, device, packages "
        "(worker/provenance.py); set when the job succeeds",
    )
    celery_task_id = models.CharField(max_length=100, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    progress_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this attempt first reported progress: its start-up (queue, model load, "
        "inputs) was over. The rate, and so the time left, is measured from here",
    )
    progress_resumed = models.PositiveBigIntegerField(
        default=0,
        help_text="progress_done when this attempt first reported: the work earlier attempts "
        "left in checkpoints, which the rate must not count",
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="unique_idempotency_key_per_workspace",
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATES

    @property
    def percent(self) -> int:
        # Workers report progress throttled and some kinds only report their start, so a
        # finished job's last report may fall short of its total: success is all of it.
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if self.status == JobStatus.WAITING:
            return self.parts_progress()["percent"]
        if self.progress_total == 0:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))

    def parts_progress(self) -> dict:
        """The parts' combined progress: ``done`` and ``total`` (work units, e.g. alleles; a
        finished part counts whole), ``percent``, how many parts there are and have finished,
        and ``began``, the first report of any part."""
        counts = self.parts.aggregate(
            done=models.Sum(
                Case(
                    When(status=JobStatus.SUCCEEDED, then=F("progress_total")),
                    default=F("progress_done"),
                )
            ),
            total=models.Sum("progress_total"),
            parts=models.Count("pk"),
            finished=models.Count("pk", filter=Q(status=JobStatus.SUCCEEDED)),
            began=Min("progress_started_at"),
        )
        counts["done"], counts["total"] = counts["done"] or 0, counts["total"] or 0
        done, total = counts["done"], counts["total"]
        counts["percent"] = min(100, int(100 * done / total)) if total else 0
        return counts

    @property
    def provenance_file(self) -> "Artifact | None":
        """The provenance.json Artifact, or None (a job that has not succeeded, or one that
        finished before jobs recorded their provenance)."""
        return self.artifacts.filter(name=PROVENANCE_FILE).first()

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def duration_text(self) -> str:
        """How long it has run (``duration_text``); empty before the job starts."""
        if self.duration is None:
            return ""
        return duration_text(self.duration.total_seconds())

    def remaining_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds left at the rate the job (or, while it waits, its parts) has kept since
        its first progress report; None before there is a rate to go by, and once final."""
        if self.status == JobStatus.WAITING:
            parts = self.parts_progress()
            done, total, began = parts["done"], parts["total"], parts["began"]
        elif self.status == JobStatus.RUNNING:
            done, total, began = self.progress_done, self.progress_total, self.progress_started_at
        else:
            return None
        done_here = done - (self.progress_resumed if self.status == JobStatus.RUNNING else 0)
        if began is None or done_here <= 0 or done >= total:
            return None
        elapsed = ((now or timezone.now()) - began).total_seconds()
        return elapsed * (total - done) / done_here

    @property
    def eta_text(self) -> str:
        """``"about 2 min 5 s left"``; empty when there is no rate yet."""
        seconds = self.remaining_seconds()
        return "" if seconds is None else f"about {duration_text(seconds)} left"

    @classmethod
    def submit(cls, *, workspace, user, kind: str, params: dict, idempotency_key: str = ""):
        """Create a queued job, or return the one already submitted with this key.

        Returns:
            (job, created). Enqueue only when ``created``: a repeated submission (double click,
            retried request) must not start the work twice.
        """
        if idempotency_key:
            existing = cls.objects.filter(workspace=workspace, idempotency_key=idempotency_key)
            if job := existing.first():
                return job, False
        try:
            with transaction.atomic():
                job = cls.objects.create(
                    workspace=workspace,
                    created_by=user,
                    kind=kind,
                    params=params,
                    idempotency_key=idempotency_key,
                )
        except IntegrityError:  # a concurrent request with the same key won the race
            return cls.objects.get(workspace=workspace, idempotency_key=idempotency_key), False
        return job, True

    @classmethod
    def claim(cls, job_id: int, *, worker: str, task_id: str) -> Claim:
        """Take the job for this worker, under a row lock.

        A queued job, or a running one whose worker died (its parent process reported it) or
        stopped sending heartbeats (killed, lost), can be claimed. Each claim counts an attempt,
        so an input that crashes the worker is failed by the attempt guard instead of being
        redelivered forever. Progress is kept: the new attempt resumes from the checkpoints
        the earlier ones left, and the bar must not go backwards meanwhile.
        """
        now = timezone.now()
        stale = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
        claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale)
        with transaction.atomic():
            job = (
                cls.objects.select_for_update()
                .filter(
                    claimable,
                    pk=job_id,
                    cancel_requested=False,
                    attempts__lt=settings.JOB_MAX_ATTEMPTS,
                )
                .first()
            )
            if job is not None:
                job._take(worker=worker, task_id=task_id, now=now)
                return Claim.CLAIMED
        return cls._explain_lost_claim(job_id)

    def _take(self, *, worker: str, task_id: str, now: datetime) -> None:
        if self.status == JobStatus.RUNNING:  # taken over from a worker that went silent
            self.note_crash(STOPPED_BEATING)
        Job.objects.filter(pk=self.pk).update(
            status=JobStatus.RUNNING,
            attempts=F("attempts") + 1,
            started_at=Coalesce("started_at", Value(now)),  # the first attempt's start
            heartbeat_at=now,
            worker=worker,
            celery_task_id=task_id,
            crashes=self.crashes,
            working_on="",
            progress_started_at=None,  # the rate is this attempt's own
            progress_resumed=0,
        )

    def note_crash(self, how: str, *, memory: bool = False) -> None:
        """Add the current attempt to ``crashes`` (on this instance; the caller saves it),
        once: the worker's parent may have reported it before the sweeper noticed."""
        if any(crash["attempt"] == self.attempts for crash in self.crashes):
            return
        crash = {
            "attempt": self.attempts,
            "worker": self.worker,
            "how": how,
            "memory": memory,
            "working_on": self.working_on,
            "at": timezone.now().isoformat(),
        }
        self.crashes = [*self.crashes, crash]

    @classmethod
    def worker_lost(cls, job_id: int, *, worker: str, how: str, memory: bool) -> bool:
        """The worker's parent process saw the process running this job die (killed, crashed,
        out of memory): record how and mark the attempt over at once, so the redelivered
        message can take the job now instead of after ``JOB_STALE_SECONDS`` of silence.
        Returns whether the job was this worker's to give up."""
        stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
        with transaction.atomic():
            job = (
                cls.objects.select_for_update()
                .filter(pk=job_id, status=JobStatus.RUNNING, worker=worker)
                .first()
            )
            if job is None:
                return False
            job.note_crash(how, memory=memory)
            cls.objects.filter(pk=job_id).update(crashes=job.crashes, heartbeat_at=stale)
        return True

    def fail_after_crashes(self) -> bool:
        """Fail a job whose worker died on every attempt, saying what is known: memory, and
        the records it was working on when each attempt died, if it was always the same."""
        memory = any(crash.get("memory") for crash in self.crashes)
        times = "once" if self.attempts == 1 else f"{self.attempts} times"
        message = (
            f"The job stopped the worker {times} (it was killed or crashed while running), "
            "so it was not retried again."
        )
        if memory:
            message += (
                " The kernel killed the worker for lack of memory: the job needs more memory "
                "than the worker has. Score fewer tracks or a smaller set, or ask an "
                "administrator for a worker with more memory."
            )
        sites = {crash.get("working_on", "") for crash in self.crashes}
        if len(self.crashes) >= self.attempts and len(sites) == 1 and "" not in sites:
            when = "It was" if self.attempts == 1 else "Each time it was"
            check = "." if memory else ": check those records."
            message += f" {when} working on {sites.pop()}{check}"
        elif not memory:
            message += " Check the input, or ask an administrator to look at the worker logs."
        reason = FailureReason.OUT_OF_MEMORY if memory else FailureReason.WORKER_CRASHED
        detail = "; ".join(
            f"attempt {c['attempt']} on {c['worker'] or '?'}: {c['how']}" for c in self.crashes
        )
        return self.fail(message, reason=reason, detail=detail)

    @classmethod
    def _explain_lost_claim(cls, job_id: int) -> Claim:
        job = cls.objects.filter(pk=job_id).first()
        if job is None or job.is_final or job.status == JobStatus.WAITING:
            return Claim.GONE  # a waiting job is queued again, with a new message, by its parts
        if job.cancel_requested:
            job.mark_cancelled()
            return Claim.GONE
        if job.attempts >= settings.JOB_MAX_ATTEMPTS and not job.has_live_worker():
            job.note_crash(STOPPED_BEATING)
            job.fail_after_crashes()
            return Claim.GONE
        return Claim.BUSY

    def has_live_worker(self) -> bool:
        if self.status != JobStatus.RUNNING or self.heartbeat_at is None:
            return False
        age = timezone.now() - self.heartbeat_at
        return age < timedelta(seconds=settings.JOB_STALE_SECONDS)

    def submitter_may_run(self) -> bool:
        """The worker re-checks membership: a user removed after submitting loses the job.
        A bundle only packages results, so any member (a viewer too) may have one built."""
        roles = READ_ROLES if self.kind == JobKind.BUNDLE else WRITE_ROLES
        return self.workspace.memberships.filter(user=self.created_by_id, role__in=roles).exists()

    def _update_if(self, condition: Q, **fields) -> bool:
        """Apply ``fields`` only while ``condition`` holds; keep this instance in step."""
        updated = Job.objects.filter(condition, pk=self.pk).update(**fields)
        if updated:
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(updated)

    def _owned(self) -> Q:
        """Still running under this instance's attempt: a worker that lost the job (it went
        silent and another worker claimed it) can no longer touch it."""
        return Q(status=JobStatus.RUNNING, attempts=self.attempts)

    def still_owned(self) -> bool:
        """Whether this attempt still holds the job (nobody finished it or took it over)."""
        return Job.objects.filter(self._owned(), pk=self.pk).exists()

    def beat(self) -> bool:
        """Record that the worker is alive. Returns whether a cancel was requested."""
        self._update_if(self._owned(), heartbeat_at=timezone.now())
        return Job.objects.filter(pk=self.pk, cancel_requested=True).exists()

    def set_progress(self, done: int, total: int) -> None:
        """Record progress; the attempt's first report also marks where its rate starts (and
        how much it resumed from checkpoints)."""
        now = timezone.now()
        first_report = self.progress_started_at is None
        if not self._update_if(
            self._owned(),
            # An attempt that starts over (a kind without checkpoints) must not move the bar
            # back: it stays until the new attempt passes it.
            progress_done=Case(
                When(progress_total=total, then=Greatest(F("progress_done"), Value(done))),
                default=Value(done),
            ),
            progress_total=total,
            heartbeat_at=now,
            progress_started_at=self.progress_started_at or now,
            progress_resumed=done if first_report else self.progress_resumed,
        ):
            return
        self.progress_done = done

    def set_working_on(self, what: str) -> None:
        """Name what the attempt works on now (e.g. ``records 1,201-1,600 (II:12,345 ...)``),
        so a crash while on it can be pinned on its input."""
        self._update_if(self._owned(), working_on=what[:300])

    def finish(
        self,
        summary: dict,
        *,
        provenance: dict | None = None,
        finished_at: datetime | None = None,
    ) -> bool:
        """Mark success. False when this attempt no longer owns the job: the caller must then
        roll back what it wrote, so results are stored exactly once.

        ``finished_at`` is the end time the provenance already records, so the two agree.
        """
        return self._update_if(
            self._owned(),
            status=JobStatus.SUCCEEDED,
            summary=summary,
            provenance=provenance or {},
            finished_at=finished_at or timezone.now(),
            error="",
        )

    def fail(self, message: str, *, reason: str = "", detail: str = "") -> bool:
        """Fail the job with ``message`` for the user (and ``reason``, ``detail`` for the
        administrator); files an attempt left without recording them are removed."""
        failed = self._update_if(
            ~Q(status__in=FINAL_STATES),
            status=JobStatus.FAILED,
            error=message,
            failure_reason=reason,
            failure_detail=detail,
            finished_at=timezone.now(),
        )
        if failed:
            from genomeweb.results.storage import discard_unrecorded_files

            discard_unrecorded_files(self)
        if failed and self.parent_id:
            parent = Job.objects.get(pk=self.parent_id)
            number = self.params.get("part", 0) + 1
            part_failed = f"Part {number} of {parent.parts.count()} failed: {message}"
            if parent.fail(part_failed, reason=FailureReason.PART_FAILED, detail=detail):
                parent.cancel_parts()
        return failed

    def mark_cancelled(self) -> bool:
        return self._update_if(
            ~Q(status__in=FINAL_STATES),
            status=JobStatus.CANCELLED,
            finished_at=timezone.now(),
        )

    def request_cancel(self) -> None:
        """Cancel now if nobody runs the job yet (queued, or waiting for its parts); otherwise
        ask the worker to stop. Parts are cancelled with their job."""
        if self._update_if(
            Q(status__in=[JobStatus.QUEUED, JobStatus.WAITING]),
            status=JobStatus.CANCELLED,
            cancel_requested=True,
            finished_at=timezone.now(),
        ):
            self.cancel_parts()
            return
        self._update_if(Q(status=JobStatus.RUNNING), cancel_requested=True)

    def cancel_parts(self) -> None:
        for part in self.parts.exclude(status__in=FINAL_STATES):
            part.request_cancel()

    def wait_for_parts(self, parts: list["Job"]) -> bool:
        """Hand the work to ``parts`` (unsaved) and release the job until they finish; the
        worker enqueues them after commit. False when this attempt no longer owns the job."""
        if not self._update_if(
            self._owned(),
            status=JobStatus.WAITING,
            progress_done=0,
            progress_total=0,
            progress_started_at=None,  # its parts report their own
            heartbeat_at=None,
            worker="",
        ):
            return False
        Job.objects.bulk_create(parts)
        return True

    def part_finished(self) -> bool:
        """Called in the transaction that finished a part: when it was the last one, queue
        the job again to combine them. Returns whether it did (the caller then enqueues it)."""
        parent = Job.objects.select_for_update().get(pk=self.parent_id)  # one finisher at a time
        if parent.status != JobStatus.WAITING:
            return False
        if parent.parts.exclude(status=JobStatus.SUCCEEDED).exists():
            return False
        return parent._update_if(
            Q(status=JobStatus.WAITING),
            status=JobStatus.QUEUED,
            queued_at=timezone.now(),
            attempts=0,  # the attempt guard counts the combining step afresh
        )

    def requeue(self) -> bool:
        """Put a job whose worker vanished back in the queue (the sweeper's job)."""
        stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
        self.note_crash(STOPPED_BEATING)
        return self._update_if(
            Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale, attempts=self.attempts),
            status=JobStatus.QUEUED,
            queued_at=timezone.now(),
            worker="",
            crashes=self.crashes,
        )


# The store of scored alleles that jobs reuse is a model of this app, kept in its own module.
from genomeweb.jobs.score_cache import ScoreCacheEntry, ScoreCacheLayout  # noqa: E402, F401
