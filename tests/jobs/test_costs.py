"""The time a model run is estimated to take: a start-up plus a time per pass, fitted to the
model's recent jobs on its latest device (genomeweb/jobs/costs.py)."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from genomeweb.catalog.models import Architecture, Predictor
from genomeweb.jobs.costs import (
    DEFAULT_COSTS,
    NO_HISTORY,
    RECENT_JOBS,
    Run,
    fit_cost,
    scoring_cost,
)
from genomeweb.jobs.models import Job, JobKind, JobStatus

SIZES = (10, 300, 3000)  # alleles: a smoke test, a panel, a study


def passes_for(alleles: int) -> int:
    """Both strands of each allele, and a reference pass per tile of about 20 alleles."""
    return 2 * alleles + 2 * (alleles // 20 + 1)


class SimulatedWorker:
    """Jobs cost ``queue + load`` before their first progress report, then ``per_pass`` a pass
    (the engine's scoring) and ``exports`` (writing files, a fixed part), each with noise."""

    def __init__(self, seed: int, *, load=20.0, exports=3.0, per_pass=0.045, device="cpu"):
        self.rng = random.Random(seed)
        self.load, self.exports, self.per_pass, self.device = load, exports, per_pass, device
        self.clock = timezone.now() - timedelta(days=30)

    def noisy(self, seconds: float) -> float:
        return seconds * self.rng.uniform(0.75, 1.33)

    def run(self, workspace, user, model: str, passes: int, **fields) -> Job:
        startup = self.noisy(self.load) + self.rng.uniform(0, 5)  # the queue
        scoring = self.noisy(passes * self.per_pass)
        work = scoring + self.noisy(self.exports)
        queued = self.clock
        self.clock += timedelta(seconds=startup + work + 60)
        return Job.objects.create(
            workspace=workspace,
            created_by=user,
            kind=JobKind.SCORE_VARIANTS,
            status=JobStatus.SUCCEEDED,
            params={"model": model},
            summary={"passes": passes, "scoring_seconds": scoring},
            provenance={"device": {"type": "cpu", "name": self.device}},
            queued_at=queued,
            progress_started_at=queued + timedelta(seconds=startup),
            finished_at=queued + timedelta(seconds=startup + work),
            **fields,
        )


def wall_seconds(job: Job) -> float:
    return (job.finished_at - job.queued_at).total_seconds()


@pytest.fixture
def demo_model(genome) -> Predictor:
    return Predictor.objects.create(
        name="demo",
        architecture=Architecture.YEAST,
        genome=genome,
        sequence_length=4096,
        bin_size=16,
        crop_bp=512,
    )


@pytest.mark.parametrize("seed", range(5))
def test_each_estimate_is_within_twice_its_run_after_jobs_of_very_different_sizes(
    seed, workspace, alice, demo_model
):
    worker = SimulatedWorker(seed)
    sizes = list(SIZES) * 4
    random.Random(seed).shuffle(sizes)
    worker.run(workspace, alice, "demo", passes_for(sizes[0]))
    for alleles in sizes[1:]:
        passes = passes_for(alleles)
        estimate = scoring_cost(demo_model).seconds(passes)
        job = worker.run(workspace, alice, "demo", passes)
        assert 0.5 <= estimate / wall_seconds(job) <= 2, (alleles, estimate, wall_seconds(job))


def test_the_fit_recovers_the_fixed_part_and_the_cost_per_pass_from_exact_runs():
    rng = random.Random(7)
    startup, exports, per_pass = rng.uniform(5, 60), rng.uniform(0, 10), rng.uniform(0.01, 0.5)
    runs = [Run(p, startup, exports + per_pass * p, per_pass * p) for p in (22, 640, 6302, 1500)]
    assert fit_cost(runs) == pytest.approx((startup + exports, per_pass))


def test_one_job_that_waited_long_in_the_queue_hardly_moves_the_fit():
    runs = [Run(p, 20, 3 + 0.05 * p, 0.05 * p) for p in (22, 640, 6302, 1500, 300)]
    runs.append(Run(640, 620, 3 + 0.05 * 640, 0.05 * 640))  # ten minutes behind another job
    runs.append(Run(300, 20, 3 + 0.05 * 300 + 60, 0.05 * 300 + 60))  # a minute of swapping
    fixed, per_pass = fit_cost(runs)
    assert (fixed, per_pass) == pytest.approx((23, 0.05))


def test_jobs_of_one_size_take_the_engines_time_per_pass():
    # (passes, start-up, work, of which scoring): the rest of the work (4 s) is fixed
    runs = [Run(100, 18.0, 13.0, 9.0), Run(100, 22.0, 14.0, 10.0), Run(100, 20.0, 15.0, 11.0)]
    fixed, per_pass = fit_cost(runs)
    assert per_pass == pytest.approx(10.0 / 100) and fixed == pytest.approx(20.0 + 4.0)


@pytest.mark.parametrize("architecture", list(Architecture))
def test_a_model_with_no_finished_job_gets_its_documented_default(
    architecture, genome, workspace, alice
):
    predictor = Predictor.objects.create(
        name=f"new-{architecture}",
        architecture=architecture,
        genome=genome,
        sequence_length=4096,
        bin_size=16,
        crop_bp=512,
    )
    SimulatedWorker(0).run(workspace, alice, "another-model", 500)
    cost = scoring_cost(predictor)
    assert (cost.fixed, cost.per_pass) == DEFAULT_COSTS[architecture]
    assert cost.basis == NO_HISTORY


def test_only_jobs_on_the_device_of_the_latest_job_count(workspace, alice, demo_model):
    gpu = SimulatedWorker(1, load=40, per_pass=0.002, device="NVIDIA H100 80GB HBM3")
    cpu = SimulatedWorker(2, load=10, per_pass=0.08)
    cpu.clock = gpu.clock + timedelta(days=1)  # the model has moved to a CPU worker since
    for alleles in SIZES:
        gpu.run(workspace, alice, "demo", passes_for(alleles))
        cpu.run(workspace, alice, "demo", passes_for(alleles))
    cost = scoring_cost(demo_model)
    assert cost.per_pass == pytest.approx(0.08, rel=0.4)
    assert "on cpu" in cost.basis and "last 3 scoring jobs" in cost.basis


def test_only_the_latest_jobs_count(workspace, alice, demo_model):
    old = SimulatedWorker(3, per_pass=1.0)
    for alleles in SIZES * 3:
        old.run(workspace, alice, "demo", passes_for(alleles))
    new = SimulatedWorker(4, per_pass=0.05)  # the code became 20 times faster
    new.clock = old.clock
    for alleles in SIZES * (RECENT_JOBS // len(SIZES) + 1):
        new.run(workspace, alice, "demo", passes_for(alleles))
    assert scoring_cost(demo_model).per_pass == pytest.approx(0.05, rel=0.4)


def test_a_job_that_ran_in_parts_is_left_out(workspace, alice, demo_model):
    worker = SimulatedWorker(5)
    for alleles in SIZES:
        worker.run(workspace, alice, "demo", passes_for(alleles))
    before = scoring_cost(demo_model)
    parted = worker.run(workspace, alice, "demo", passes_for(3000))
    Job.objects.filter(pk=parted.pk).update(queued_at=parted.queued_at - timedelta(days=1))
    Job.objects.create(
        workspace=workspace, created_by=alice, kind=JobKind.SCORE_VARIANTS_PART, parent=parted
    )
    assert scoring_cost(demo_model) == before
