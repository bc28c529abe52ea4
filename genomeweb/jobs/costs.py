"""What a model run will take, said before launch: a fixed part plus a time per forward pass,
fitted to the model's recent scoring jobs on the device they ran on.

A job's wall time, queued to finished, is ``fixed + passes × per_pass``. The fixed part (the
queue, loading the model, reading the inputs, writing the exports) does not grow with the job.
Scaling the last job's passes per second instead, with no fixed part, got both ends wrong:
after a small job it put a 3,000-allele job at 3,895 s (it took 283 s), after a large one the
demo at 6 s (it takes 70–90 s).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from statistics import median

from genomeweb.catalog.models import Architecture, Predictor
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.lib.durations import duration_text

RECENT_JOBS = 20  # enough for medians to shrug off a few odd jobs, recent enough to follow a
# change of hardware or code

# (fixed s, s per whole pass) until a model has finished a scoring job here. The yeast demo's
# are its own on this project's 2-core CPU machine, refitted when the engine got faster
# (bench/bench_estimates.py, 2026-12-06: 12, 50 and 252 alleles took 2.1, 4.0 and 37.8 s for
# 56, 247 and 2,614 whole passes; Theil-Sen: 0.0143 s per pass, 0.5 s fixed, rounded up to
# 1.0 s for a worker that still has to load the model). The old (2.0, 0.018) put the demo at
# 6.5 s when it took 3-4 s. The others are rough figures for one GPU, replaced by measurements
# after the model's first scoring job.
DEFAULT_COSTS = {
    Architecture.YEAST: (1.0, 0.0145),
    Architecture.BORZOI: (60.0, 0.25),
    Architecture.FLASHZOI: (60.0, 0.15),
    Architecture.ENFORMER: (40.0, 0.1),
}
NO_HISTORY = "a rough default for this kind of model: none of its scoring jobs has finished here"


@dataclass(frozen=True)
class Run:
    """A finished job as the fit reads it: its forward passes; its seconds from queued to its
    first progress report (the queue, loading the model, reading inputs) and from there on;
    and, of those, the seconds the engine spent scoring (the passes themselves)."""

    passes: float  # whole-pass equivalents (genomeweb.variants.submit.estimate_pass_cost)
    startup: float
    work: float
    scoring: float


@dataclass(frozen=True)
class Cost:
    fixed: float  # seconds: the start-up, and the part of the work that does not grow
    per_pass: float  # seconds
    basis: str  # where the two numbers come from, in words

    def seconds(self, passes: float) -> float:
        return self.fixed + passes * self.per_pass

    def estimate(self, passes: float) -> dict:
        """What the forms show: ``seconds``, ``text`` ("1 min 30 s") and ``basis``."""
        seconds = self.seconds(passes)
        return {"seconds": seconds, "text": duration_text(seconds), "basis": self.basis}


def fit_cost(runs: Sequence[Run]) -> tuple[float, float]:
    """``(fixed, per_pass)`` in seconds, from at least one run.

    The fixed part is the median start-up plus the fixed part of the work. The work is a
    Theil–Sen line: the median of the slopes between every two runs of different sizes (it
    takes in what grows besides the passes, such as the exports), then the median intercept,
    so one odd job moves it little. The start-up stays out of the line: its noise (the queue)
    would swamp the slope between two small jobs. With no two sizes to compare, the slope is
    the engine's own time per pass.
    """
    startup = median(run.startup for run in runs)
    slopes = [
        (b.work - a.work) / (b.passes - a.passes)
        for a, b in combinations(runs, 2)
        if a.passes != b.passes
    ]
    per_pass = median(slopes) if slopes else 0.0
    if per_pass <= 0:  # no two sizes, or noise larger than the difference they make
        per_pass = median(run.scoring / run.passes for run in runs)
    fixed_work = median(run.work - per_pass * run.passes for run in runs)
    return startup + max(fixed_work, 0.0), per_pass


def scoring_cost(predictor: Predictor) -> Cost:
    """The fitted cost of ``predictor``'s forward passes on the device of its latest scoring
    job (the workers there now), or the documented default when it has none."""
    device, runs = recent_runs(predictor)
    if not runs:
        return Cost(*DEFAULT_COSTS[predictor.architecture], basis=NO_HISTORY)
    fixed, per_pass = fit_cost(runs)
    jobs = f"{len(runs)} scoring job{'s' if len(runs) > 1 else ''}"
    basis = (
        f"{duration_text(fixed)} fixed + {per_pass:.3g} s per pass, "
        f"fitted to this model's last {jobs} on {device}"
    )
    return Cost(fixed, per_pass, basis)


def recent_runs(predictor: Predictor) -> tuple[str | None, list[Run]]:
    """The device of the model's latest scoring job, and its latest jobs there. Jobs that ran
    as parts are left out: their parts share workers, so their time is no one worker's."""
    finished = Job.objects.filter(
        kind=JobKind.SCORE_VARIANTS,
        status=JobStatus.SUCCEEDED,
        params__model=predictor.name,
        summary__passes__gt=0,
        summary__has_key="scoring_seconds",
        parts__isnull=True,
        progress_started_at__isnull=False,
        finished_at__isnull=False,
        provenance__device__has_key="name",
    ).order_by("-finished_at")
    device = finished.values_list("provenance__device__name", flat=True).first()
    if device is None:
        return None, []
    rows = finished.filter(provenance__device__name=device).values_list(
        "summary__passes",
        "summary__cost_passes",
        "summary__scoring_seconds",
        "queued_at",
        "progress_started_at",
        "finished_at",
    )[:RECENT_JOBS]
    return device, [_run(*row) for row in rows]


def _run(
    passes: int,
    cost_passes: float | None,
    scoring: float,
    queued: datetime,
    began: datetime,
    finished: datetime,
) -> Run:
    """A job's passes as whole-pass equivalents (``estimate_pass_cost``; a job stored before
    they were recorded: its plain passes)."""
    startup, work = (began - queued).total_seconds(), (finished - began).total_seconds()
    return Run(float(cost_passes if cost_passes is not None else passes), startup, work, scoring)
