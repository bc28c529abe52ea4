"""A genome-wide yeast VCF (260,526 records, Ensembl's S. cerevisiae variation file's size) end
to end through the real app, with a cheap model so the app's own cost is measured apart from
the model's; prints JSON and a short summary.

    .venv/bin/python bench/bench_260k.py [--records 260526] [--demo-subset 5000] [--skip-demo]
        [--minutes 120] [--part-alleles 20000] [--browsers 4]
        [--database-url postgres://postgres@127.0.0.1:5432/gw_bench260k]
        [--broker redis://127.0.0.1:6379/6]
        [--demo-database-url postgres://postgres@127.0.0.1:5432/gw_bench260k_demo]
        [--demo-broker redis://127.0.0.1:6379/7] [--out test-artifacts/bench_260k.json]
        [--demo-only]

Processes as deployed (docker-compose.yml), on loopback: gunicorn (3 workers x 4 threads) and
TWO Celery workers (prefork, concurrency 1 each, niced, one OMP/MKL thread: on a 2-core machine
one per core), on a PostgreSQL database of their own (dropped and created) and a Redis database
(emptied). The server-wide prediction store (jobs_scorecacheentry) is emptied at the start, and
the count check asserts no allele was reused, so every allele is scored once, here.

The model: ``yeast-cheap``, a YeastNet with the demo's geometry (8,192 bp in, 192 bins of 32 bp,
its 12 tracks, its default shifts 0-3 with reverse complement: 8 passes per window) but 4
channels everywhere and one transformer layer, random weights on local disk, registered with
``manage.py register_model`` (sha256 of its weights) like any model. Its substitution fast path
is off, so every pass is a whole forward pass and the model's own time is passes x the time of
one pass, timed after the run on full batches of the scoring batch size (8 windows) of random
windows, in two processes at once as the two workers run it (both cores busy: each pass is
slower than in one process alone, which is also timed and reported). The engine's own last
batch of a chunk is part-filled, so this is the model's cost at its best and the overhead below
includes under-filled batches.

Phases, each timed by the wall clock: the upload through the upload form (httpx multipart, a
logged-in editor), validation (the worker's job), scoring (the form's POST until the job is
final: split into parts of ``--part-alleles``, both workers take parts, the last one joins),
while ``--browsers`` members poll the job page every 2 s and click the results table (its page,
then htmx pages, sorts and filters; p50/p95 of those requests are the results page's latency
while scoring), the annotated VCF's download, and the bundle (the request, the build, the
download). Memory: the resident set of every process (gunicorn master and workers, both Celery
masters and pool children, this database's PostgreSQL backends) sampled every 2 s, peaks kept.

App overhead per allele = (scoring wall x workers - model-only seconds) / alleles: whatever the
two workers' time went to besides the model's forward passes (windows, encoding, scores, genes,
rows, files, the join, queueing, the web and the browsers' share of the cores).

``--demo-subset N`` (unless ``--skip-demo``) runs the same phases again in a child process on
its own database and broker with the real yeast-demo model on an N-record VCF of the same kind
(parts of N/2), and reports its alleles/s and the model's share of the workers' time (its
passes costed with its measured substitution fast path).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.bench_load import (  # noqa: E402
    LOGIN_PASSWORD,
    POLL_S,
    Member,
    Recorder,
    children,
    free_port,
    load_average,
    members,
    percentiles,
    rss_mb,
    server_env,
    stop,
    wait_listening,
)
from bench.load_data import analyze, demo_workspace, fresh_database, setup_django  # noqa: E402

WORKERS = 2
CHEAP_MODEL = "yeast-cheap"
DEMO_MODEL = "yeast-demo"
SAMPLE_S = 2.0  # memory sampling interval
RSS_LIMIT_MB = 2048
TARGET_PAGE_P95_MS = 300
TARGET_OVERHEAD_MS = 2.0
HTMX = {"HX-Request": "true"}
OVERHEAD_FORMULA = "(scoring wall s x workers - model-only s) / alleles"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=260_526)
    parser.add_argument("--demo-subset", type=int, default=5000)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--demo-only", action="store_true", help="only the demo model's run")
    parser.add_argument("--minutes", type=float, default=120, help="limit on each job's wait")
    parser.add_argument("--part-alleles", type=int, default=20_000)
    parser.add_argument("--browsers", type=int, default=4)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/gw_bench260k")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/6")
    parser.add_argument(
        "--demo-database-url", default="postgres://postgres@127.0.0.1:5432/gw_bench260k_demo"
    )
    parser.add_argument("--demo-broker", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    return parser.parse_args(argv)


# --- inputs -----------------------------------------------------------------------------------


def yeast_vcf(records: int) -> Path:
    """bench/make_yeast_vcf.py's file of ``records`` records (seed 0), made once and kept."""
    from bench.make_yeast_vcf import GENOME, draw, header
    from engine.io.fasta import Genome
    from engine.io.vcf import write_bgzip

    path = ROOT / "var" / "bench" / f"yeast_{records}.vcf.gz"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        genome = Genome(GENOME)
        try:
            write_bgzip(path, header(genome) + draw(genome, records, 0))
        finally:
            genome.close()
    return path


def make_cheap_model(directory: Path) -> Path:
    """Random weights with the demo's geometry and tracks but minimal channels; the demo's
    default shifts; the substitution fast path off (every pass a whole one)."""
    import torch

    from engine.models.yeast_net import YeastNet, YeastNetConfig
    from engine.training.train import save_checkpoint

    demo = json.loads((ROOT / "data" / "models" / DEMO_MODEL / "config.json").read_text())
    torch.manual_seed(0)
    config = YeastNetConfig(
        sequence_length=demo["sequence_length"],
        crop_bp=demo["crop_bp"],
        tracks=demo["tracks"],
        stem_channels=4,
        tower_channels=(4,) * len(demo["tower_channels"]),
        transformer_layers=1,
        heads=1,
        unet_channels=4,
        dropout=0.0,
    )
    save_checkpoint(YeastNet(config).eval(), directory, {"note": "bench/bench_260k.py"})
    path = directory / "config.json"
    saved = json.loads(path.read_text())
    saved |= {"default_shifts": demo["default_shifts"], "substitution_fast_path": False}
    path.write_text(json.dumps(saved, indent=2))
    return directory


def register_cheap_model(directory: Path) -> None:
    import io

    from django.core.management import call_command

    call_command(
        "register_model",
        CHEAP_MODEL,
        architecture="yeast",
        weights=[make_cheap_model(directory)],
        genome="sacCer3",
        description="bench: the demo's geometry, minimal channels, random weights",
        stdout=io.StringIO(),
    )


def empty_score_store() -> int:
    """Empty the server-wide prediction store; returns how many entries it held."""
    from genomeweb.jobs.score_cache import ScoreCacheEntry

    held = ScoreCacheEntry.objects.count()
    ScoreCacheEntry.objects.all().delete()
    return held


def score_form(predictor) -> list[tuple[str, str]]:
    """The scoring form's defaults (ScoreForm.defaults) for ``predictor``."""
    from genomeweb.variants.forms import DEFAULT_SCORERS

    fields = [
        ("model", str(predictor.pk)),
        ("track_query", ""),
        ("assay", ""),
        ("shifts", ",".join(str(shift) for shift in predictor.default_shifts)),
        ("replicates", str(max(len(predictor.replicates), 1))),
        ("genes", "on"),
    ]
    if predictor.reverse_complement_by_default:
        fields.append(("reverse_complement", "on"))
    return fields + [("scorers", scorer) for scorer in DEFAULT_SCORERS]


# --- processes and memory ---------------------------------------------------------------------


def start_processes(env: dict[str, str], port: int, logs: Path) -> dict[str, subprocess.Popen]:
    """gunicorn as deployed and two Celery workers (bench_load.start_processes, with two)."""
    bin_dir = ROOT / ".venv" / "bin"
    gunicorn = [str(bin_dir / "gunicorn"), "genomeweb.wsgi:application", "--bind"]
    gunicorn += [f"127.0.0.1:{port}", "--workers", "3", "--threads", "4", "--timeout", "120"]
    commands = {"gunicorn": (gunicorn, env | named(env, WEB_CLIENT) | {"MALLOC_ARENA_MAX": "2"})}
    for n in range(WORKERS):
        commands[f"celery{n}"] = (
            ["nice", "-n", "10", str(bin_dir / "celery"), "-A", "genomeweb", "worker"]
            + ["-Q", "gpu", "-I", "worker.tasks", "--pool=prefork", "--concurrency=1"]
            + ["-n", f"gpu{n}@%h"],
            env | named(env, WORKER_CLIENT) | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        )
    return {
        name: subprocess.Popen(
            command,
            cwd=ROOT,
            env=process_env,
            stdout=subprocess.DEVNULL,
            stderr=open(logs / f"{name}.log", "wb"),  # noqa: SIM115 (closed with the process)
        )
        for name, (command, process_env) in commands.items()
    }


WEB_CLIENT, WORKER_CLIENT = "gw-bench-web", "gw-bench-worker"


def named(env: dict[str, str], client: str) -> dict[str, str]:
    """The database URL with an ``application_name``: PostgreSQL's backends then say whom
    they serve, and their CPU time is the web's or the workers' (CpuLedger)."""
    return {"DATABASE_URL": f"{env['DATABASE_URL']}?application_name={client}"}


class MemorySampler(threading.Thread):
    """Every SAMPLE_S: the RSS of each process and its children, and of each PostgreSQL
    backend of the database; keeps each one's peak and the backends' peak total."""

    def __init__(self, processes: dict[str, subprocess.Popen], database_url: str) -> None:
        super().__init__(daemon=True)
        self.processes = processes
        self.database_url = database_url
        self.peaks: dict[str, float] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            while not self.halt.is_set():
                self.sample(connection)
                self.halt.wait(SAMPLE_S)

    def sample(self, connection) -> None:
        sampled = {"bench driver": rss_mb(os.getpid())}
        for name, process in self.processes.items():
            # nice execs celery in place, so the Popen's pid is the Celery master's
            role = "worker" if name == "gunicorn" else "pool child"
            sampled[f"{name} master"] = rss_mb(process.pid)
            for child in children(process.pid):
                sampled[f"{name} {role} {child}"] = rss_mb(child)
        found = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
        backends = {f"postgres backend {pid}": rss_mb(pid) for (pid,) in found}
        sampled |= backends
        sampled["postgres backends (total)"] = sum(mb or 0 for mb in backends.values())
        for name, mb in sampled.items():
            if mb is not None:
                self.peaks[name] = max(self.peaks.get(name, 0.0), round(mb, 1))

    def stop(self) -> dict[str, float]:
        self.halt.set()
        self.join(timeout=30)
        return dict(sorted(self.peaks.items(), key=lambda item: -item[1]))


class CpuLedger(threading.Thread):
    """Every SAMPLE_S: each process's CPU seconds so far (user + system), by who it is, and
    the machine's idle seconds; ``mark()`` keeps a snapshot and ``between(a, b)`` says where
    the cores' time went between two. A process that ends between samples loses at most its
    last SAMPLE_S; one that started after ``a`` counts from zero."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, processes: dict[str, subprocess.Popen], database_url: str) -> None:
        super().__init__(daemon=True)
        self.processes = processes
        self.database_url = database_url
        self.backends: dict[int, str] = {}  # PostgreSQL's pid -> whom it serves
        self.seen: dict[int, tuple[str, float]] = {}
        self.lock = threading.Lock()
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.sample()
            self.halt.wait(SAMPLE_S)

    def who(self, pid: int, ppid: int, command: str) -> str:
        for name, process in self.processes.items():
            if pid == process.pid:
                return f"{name[:6]} master" if name.startswith("celery") else name
            if ppid == process.pid:
                return "celery pool children" if name.startswith("celery") else name
        if pid == os.getpid():
            return "bench driver (browsers, sampling)"
        if command == "postgres":
            return f"postgresql ({self.backends.get(pid, 'other')})"
        return "redis" if command == "redis-server" else f"({command})"

    def name_backends(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid, application_name, backend_type FROM pg_stat_activity"
            ).fetchall()
        clients = {WEB_CLIENT: "web", WORKER_CLIENT: "workers"}
        for pid, application, kind in rows:
            if kind != "client backend":
                self.backends[pid] = "background: checkpoints, WAL"
            elif application in clients:
                self.backends[pid] = clients[application]

    def sample(self) -> None:
        self.name_backends()
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            command = text[text.index("(") + 1 : text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            group = self.who(pid, int(fields[1]), command)
            found[pid] = (group, (int(fields[11]) + int(fields[12])) / self.TICK)
        idle = machine_idle_seconds()
        with self.lock:
            self.seen.update(found)
            self.idle = idle

    def mark(self) -> dict:
        self.sample()
        with self.lock:
            return {"processes": dict(self.seen), "idle": self.idle, "at": time.monotonic()}

    @staticmethod
    def between(first: dict, last: dict) -> dict:
        groups: dict[str, float] = {}
        for pid, (group, seconds) in last["processes"].items():
            before = first["processes"].get(pid, (group, 0.0))[1]
            groups[group] = groups.get(group, 0.0) + seconds - before
        wall = last["at"] - first["at"]
        cores = os.cpu_count() or 1
        # the rest of the machine's processes by name, those that used a tenth of a second
        accounted = {
            name: round(seconds, 1)
            for name, seconds in sorted(groups.items())
            if not name.startswith("(") or seconds >= 0.1
        }
        return {
            "wall_s": round(wall, 1),
            "core_s": round(wall * cores, 1),
            "idle_core_s": round(last["idle"] - first["idle"], 1),
            "by_process_s": accounted,
            "unaccounted_busy_core_s": round(
                wall * cores - (last["idle"] - first["idle"]) - sum(groups.values()), 1
            ),
        }

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=30)


def machine_idle_seconds() -> float:
    """The machine's idle + iowait + steal seconds since boot, all cores (/proc/stat): steal
    is time the hypervisor gave another guest, which no process here could use."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return (int(fields[3]) + int(fields[4]) + int(fields[7])) / CpuLedger.TICK


# --- HTTP -------------------------------------------------------------------------------------


def logged_in_client(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600, follow_redirects=False)
    client.get("/accounts/login/").raise_for_status()
    data = {
        "username": username,
        "password": LOGIN_PASSWORD,
        "csrfmiddlewaretoken": client.cookies["csrftoken"],
    }
    response = client.post("/accounts/login/", data=data)
    assert response.status_code == 302, response.status_code
    return client


def upload(client: httpx.Client, workspace: str, genome_pk: int, vcf: Path) -> str:
    """The upload form's POST; returns the new variant set's code."""
    url = f"/w/{workspace}/variants/upload/"
    client.get(url).raise_for_status()
    data = {
        "name": vcf.name,
        "genome": str(genome_pk),
        "submission": str(uuid.uuid4()),
        "csrfmiddlewaretoken": client.cookies["csrftoken"],
    }
    with vcf.open("rb") as stream:
        files = {"vcf": (vcf.name, stream, "application/gzip")}
        response = client.post(url, data=data, files=files)
    assert response.status_code == 302, (response.status_code, response.text[:2000])
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def download(client: httpx.Client, url: str) -> int:
    """GET ``url`` to its last byte; returns its size."""
    size = 0
    with client.stream("GET", url) as response:
        assert response.status_code == 200, (url, response.status_code)
        for chunk in response.iter_bytes(1 << 20):
            size += len(chunk)
    return size


def wait_final(job_id: int, minutes: float):
    """The job row once it is final (polled in the database); raises if it failed."""
    from genomeweb.jobs.models import Job, JobStatus

    deadline = time.monotonic() + 60 * minutes
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_final:
            assert job.status == JobStatus.SUCCEEDED, (job.kind, job.status, job.error)
            return job
        time.sleep(0.5)
    raise TimeoutError(f"job {job_id} was not final after {minutes} min")


# --- scoring while members browse -------------------------------------------------------------


def table_click(rng: random.Random, genes: list[str]) -> tuple[str, dict]:
    return rng.choice(
        [
            ("next page", {"page": str(rng.randrange(2, 6))}),
            ("far page", {"page": str(rng.randrange(20, 200))}),
            ("sort by position", {"sort": "position", "dir": rng.choice(("asc", "desc"))}),
            ("sort by score", {"sort": "score"}),
            ("gene filter", {"gene": rng.choice(genes)}),
            ("min |score|", {"min_abs": rng.choice(("0.001", "0.01", "0.1"))}),
            ("search gene", {"q": rng.choice(genes)}),
        ]
    )


async def score_and_browse(
    base: str, usernames: list[str], set_code: str, form: list, genes: list[str], minutes: float
) -> dict:
    """The first member submits the scoring form and polls the job page until the job is
    final; the others poll it too and click its results table meanwhile."""
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4, keepalive_expiry=1.0)
    clients = [
        httpx.AsyncClient(base_url=base, timeout=120, limits=limits, follow_redirects=False)
        for _ in usernames
    ]
    recorder = Recorder()
    users = [Member(client, "", recorder, random.Random(i)) for i, client in enumerate(clients)]
    try:
        await asyncio.gather(*(u.log_in(name) for u, name in zip(users, usernames, strict=True)))
        began = time.perf_counter()
        submitted = await users[0].post(
            "submit", "submit scoring", f"/variant-sets/{set_code}/score/", form
        )
        assert submitted is not None and submitted.status_code == 302, submitted
        job = submitted.headers["Location"].split("/jobs/")[1].split("/")[0]
        done = asyncio.Event()
        deadline = time.monotonic() + 60 * minutes
        browsing = [browse(u, job, genes, done) for u in users[1:]]
        await asyncio.gather(poll_until_final(users[0], job, done, deadline), *browsing)
        seconds = time.perf_counter() - began
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    results = [ms for kind, _, ms, _ in recorder.timings if kind in ("results", "results click")]
    by_kind: dict[str, list[float]] = {}
    clicks: dict[str, list[float]] = {}  # by what was clicked: which of them is slow
    for kind, what, ms, _ in recorder.timings:
        by_kind.setdefault(kind, []).append(ms)
        if kind == "results click":
            clicks.setdefault(what, []).append(ms)
    return {
        "job": job,
        "client_seconds": round(seconds, 1),
        "results_while_scoring": {"requests": len(results), **percentiles(results)}
        if results
        else None,
        "requests": {k: {"requests": len(v), **percentiles(v)} for k, v in by_kind.items()},
        "clicks": {k: {"requests": len(v), **percentiles(v)} for k, v in clicks.items()},
        "errors": len(recorder.failures),
        "first_errors": recorder.failures[:10],
    }


async def poll_until_final(member: Member, job: str, done: asyncio.Event, deadline: float):
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            poll = await member.get("job page", "job page poll", f"/jobs/{job}/", headers=HTMX)
            if poll is not None and poll.status_code == 286:  # htmx: final, stop polling
                return
        raise TimeoutError(f"scoring job {job} not final in time")
    finally:
        done.set()


async def browse(member: Member, job: str, genes: list[str], done: asyncio.Event) -> None:
    url = f"/jobs/{job}/effects/"
    while not done.is_set():
        await member.get("job page", "job page poll", f"/jobs/{job}/", headers=HTMX)
        await member.get("results", "results page", url)
        for _ in range(member.rng.randrange(1, 4)):
            await asyncio.sleep(member.rng.uniform(1.0, 3.0))
            if done.is_set():
                return
            what, query = table_click(member.rng, genes)
            await member.get("results click", what, url, params=query, headers=HTMX)
        await asyncio.sleep(POLL_S)


# --- the model's own time ---------------------------------------------------------------------


def model_seconds_per_pass(predictor, params: dict, budget_s: float = 20) -> dict:
    """One forward pass's seconds for the job's ensemble (shifts x strands), timed here on
    batches of the scoring batch size of random windows, on one thread, after the run."""
    import torch

    from engine.models.runtime import scoring_batch_size
    from engine.variants.effects import _predict
    from worker.jobs.scoring import scoring_model

    torch.set_num_threads(1)
    model, tracks = scoring_model(predictor, params, params["tracks"])
    batch = scoring_batch_size(model.device)
    generator = torch.Generator().manual_seed(0)
    bases = torch.randint(0, 4, (batch, model.sequence_length), generator=generator)
    onehot = torch.nn.functional.one_hot(bases, 4).float()
    with torch.inference_mode():
        _predict(model, onehot, tracks)  # warm-up
        batches, began = 0, time.perf_counter()
        while batches < 3 or (time.perf_counter() - began < budget_s and batches < 200):
            _predict(model, onehot, tracks)
            batches += 1
        seconds = time.perf_counter() - began
    passes = batches * batch * model.passes_per_sequence
    return {
        "seconds_per_pass": seconds / passes,
        "timed_passes": passes,
        "batch": batch,
        "passes_per_window": model.passes_per_sequence,
    }


def model_seconds_per_pass_side_by_side(env: dict, model: str, params: dict) -> dict:
    """``model_seconds_per_pass`` in ``WORKERS`` processes at once, as the workers run the
    model: on this 2-core machine two model processes share the caches and memory bandwidth,
    and each one's pass is slower than alone. Spawned (not forked: this process has run
    torch), each loads the model from the catalog like a worker."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        timed = pool.starmap(_time_model_in_child, [(env, model, params)] * WORKERS)
    return {
        "seconds_per_pass": sum(t["seconds_per_pass"] for t in timed) / len(timed),
        "each": [round(t["seconds_per_pass"], 6) for t in timed],
    }


def _time_model_in_child(env: dict, model: str, params: dict) -> dict:
    os.environ.update(env)
    import django

    django.setup()
    from genomeweb.catalog.models import Predictor

    return model_seconds_per_pass(Predictor.objects.get(name=model), params)


# --- the run ----------------------------------------------------------------------------------


def run(args, *, database_url: str, broker: str, records: int, model: str, part: int) -> dict:
    """Every phase on a fresh database; returns the report."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    vcf = yeast_vcf(records)
    timings["make_vcf"] = time.perf_counter() - clock
    var_dir = Path(tempfile.mkdtemp(prefix="gw-260k-"))
    fresh_database(database_url)
    import redis

    redis.Redis.from_url(broker).flushdb()
    config = SimpleNamespace(database_url=database_url, broker=broker)
    env = server_env(config, var_dir) | {"GW_SCORING_PART_ALLELES": str(part)}
    clock = time.perf_counter()
    setup_django(env)
    if model == CHEAP_MODEL:
        register_cheap_model(var_dir / "models" / CHEAP_MODEL)
    store_held = empty_score_store()
    timings["setup_db"] = time.perf_counter() - clock

    from genomeweb.catalog.models import Genome, Predictor
    from genomeweb.jobs.models import Job
    from genomeweb.jobs.score_cache import ScoreCacheEntry
    from genomeweb.results.bundle_jobs import latest_bundle
    from genomeweb.variants.models import GeneEffect, VariantEffect, VariantSet
    from genomeweb.variants.submit import estimate_pass_cost

    genome = Genome.objects.get(name="sacCer3")
    predictor = Predictor.objects.get(name=model)
    _, workspace = demo_workspace()
    usernames, _ = members(workspace, 1 + args.browsers)
    genes = list(genome.genes.exclude(name="").values_list("name", flat=True)[:2000])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes = start_processes(env, port, var_dir)
    sampler = MemorySampler(processes, database_url)
    ledger = CpuLedger(processes, database_url)
    report: dict = {}
    try:
        wait_listening(port)
        sampler.start()
        ledger.start()
        client = logged_in_client(base, usernames[0])

        clock = time.perf_counter()
        set_code = upload(client, str(workspace.code), genome.pk, vcf)
        timings["upload"] = time.perf_counter() - clock
        variant_set = VariantSet.objects.get(code=set_code)
        validation = wait_final(variant_set.validation_job_id, args.minutes)
        timings["validation"] = time.perf_counter() - clock - timings["upload"]
        variant_set.refresh_from_db()
        alleles = variant_set.variants.count()
        analyze(vacuum=False)  # what autovacuum does soon after the rows arrive

        load_before = load_average()
        scoring_began = ledger.mark()
        scoring = asyncio.run(
            score_and_browse(base, usernames, set_code, score_form(predictor), genes, args.minutes)
        )
        job = wait_final(Job.objects.get(code=scoring["job"]).pk, 1)
        cpu_while_scoring = CpuLedger.between(scoring_began, ledger.mark())
        load_after = load_average()
        # from the form's POST (the row's creation) to the join's end, as the database has it
        scoring_wall = (job.finished_at - job.created).total_seconds()
        timings["scoring"] = scoring_wall

        artifact = job.artifacts.get(name="annotated.vcf.gz")
        clock = time.perf_counter()
        vcf_bytes = download(client, f"/files/{artifact.code}/annotated.vcf.gz")
        timings["export_annotated_vcf"] = time.perf_counter() - clock

        clock = time.perf_counter()
        asked = client.post(
            f"/jobs/{job.code}/bundle/",
            data={"report_top": "50", "csrfmiddlewaretoken": client.cookies["csrftoken"]},
        )
        assert asked.status_code == 302, asked.status_code
        bundle = wait_final(latest_bundle(job).pk, args.minutes)
        timings["bundle_build"] = time.perf_counter() - clock
        packed = bundle.artifacts.get()
        clock = time.perf_counter()
        bundle_bytes = download(client, f"/files/{packed.code}/{packed.name}")
        timings["bundle_download"] = time.perf_counter() - clock
        client.close()
    finally:
        peaks = sampler.stop() if sampler.is_alive() else sampler.peaks
        ledger.stop()
        stop(processes)

    effects = VariantEffect.objects.filter(job=job)
    rows = effects.count()
    distinct = effects.values("variant").distinct().count()
    gene_rows = GeneEffect.objects.filter(job=job).count()
    stored = ScoreCacheEntry.objects.count()  # the prediction store the parts filled
    parts = list(job.parts.all())
    reused = job.summary.get("reused", 0)  # the join's sum over the parts
    last_part = max((part.finished_at for part in parts), default=job.finished_at)
    timed = model_seconds_per_pass(predictor, job.params)
    side_by_side = model_seconds_per_pass_side_by_side(env, model, job.params)
    # the job's passes in whole-pass equivalents, as the estimate before launch counts them
    cost = estimate_pass_cost(variant_set, predictor, job.params)
    model_seconds = cost * side_by_side["seconds_per_pass"]
    alone_seconds = cost * timed["seconds_per_pass"]
    worker_seconds = scoring_wall * WORKERS
    overhead_ms = 1000 * (worker_seconds - model_seconds) / alleles
    overhead_alone_ms = 1000 * (worker_seconds - alone_seconds) / alleles
    by_worker: dict[str, int] = {}
    for piece in parts:  # not "part": the part size's name
        by_worker[piece.worker or "?"] = by_worker.get(piece.worker or "?", 0) + 1
    top_rss = max(
        (mb for name, mb in peaks.items() if not name.startswith("postgres backends")), default=0
    )
    results_p95 = (scoring["results_while_scoring"] or {}).get("p95_ms")
    report = {
        "records": records,
        "vcf": {"path": str(vcf.relative_to(ROOT)), "bytes": vcf.stat().st_size},
        "accepted_alleles": alleles,
        "conditions": {
            "cpus": os.cpu_count(),
            "workers": WORKERS,
            "gunicorn": "3 workers x 4 threads",
            "part_alleles": part,
            "parts": len(parts),
            "parts_by_worker": by_worker,
            "browsers": args.browsers,
            "parts_s": [
                [part.worker, round((part.finished_at - part.started_at).total_seconds(), 1)]
                for part in sorted(parts, key=lambda part: part.started_at)
            ],
            "join_s_after_last_part": round((job.finished_at - last_part).total_seconds(), 1),
            "load_average_before_scoring": load_before,
            "load_average_after_scoring": load_after,
            "score_store_entries_emptied": store_held,
        },
        "phases_wall_s": {name: round(seconds, 2) for name, seconds in timings.items()},
        "alleles_per_s": round(alleles / scoring_wall, 1),
        "model": {
            "name": model,
            "passes": job.summary.get("passes"),
            "pass_cost_whole_pass_equivalents": round(cost, 1),
            "seconds_per_pass": round(side_by_side["seconds_per_pass"], 6),
            "seconds_per_pass_each_process": side_by_side["each"],
            "seconds_per_pass_alone": round(timed["seconds_per_pass"], 6),
            "timed_passes": timed["timed_passes"],
            "model_only_s": round(model_seconds, 1),
            "model_only_alone_s": round(alone_seconds, 1),
            "workers_s": round(worker_seconds, 1),
            "model_share_of_workers_s": round(model_seconds / worker_seconds, 3),
        },
        "app_overhead_ms_per_allele": round(overhead_ms, 3),
        "app_overhead_formula": OVERHEAD_FORMULA,
        "app_overhead_ms_per_allele_model_timed_alone": round(overhead_alone_ms, 3),
        "cpu_while_scoring": cpu_while_scoring,
        "db_rows_per_s": {
            "validation_variants": round(alleles / timings["validation"]),
            "scoring_effect_gene_and_store_rows": round((rows + gene_rows + stored) / scoring_wall),
        },
        "rows": {"variant_effects": rows, "gene_effects": gene_rows, "score_store": stored},
        "count_check": {
            "effect_rows_eq_alleles": rows == alleles,
            "distinct_variants_eq_rows": distinct == rows,
            "summary_alleles": job.summary.get("alleles"),
            "set_accepted": variant_set.accepted,
            "reused": reused,
            "validation_summary": validation.summary,
        },
        "files_bytes": {"annotated_vcf_gz": vcf_bytes, "bundle": bundle_bytes},
        "scoring_browse": scoring,
        "peak_rss_mb": peaks,
        "targets_met": {
            "overhead_le_2_ms_per_allele": overhead_ms <= TARGET_OVERHEAD_MS,
            "results_p95_lt_300_ms_while_scoring": results_p95 is not None
            and results_p95 < TARGET_PAGE_P95_MS,
            "no_process_over_2_gb": top_rss <= RSS_LIMIT_MB,
            "every_allele_scored_once": rows == alleles and distinct == rows and reused == 0,
        },
        "logs": str(var_dir),
    }
    return report


def summary_lines(report: dict) -> list[str]:
    phases = ", ".join(f"{k} {v:g} s" for k, v in report["phases_wall_s"].items())
    model = report["model"]
    browse = report["scoring_browse"]["results_while_scoring"] or {}
    top = next(iter(report["peak_rss_mb"].items()), ("-", 0))
    return [
        f"[{model['name']}] {report['accepted_alleles']:,} alleles "
        f"({report['records']:,} records) on {report['conditions']['workers']} workers, "
        f"{report['conditions']['cpus']} CPUs",
        f"  phases: {phases}",
        f"  scoring: {report['alleles_per_s']:g} alleles/s; model-only {model['model_only_s']:g} s"
        f" of {model['workers_s']:g} worker-s ({100 * model['model_share_of_workers_s']:.1f} %)",
        f"  app overhead: {report['app_overhead_ms_per_allele']:g} ms/allele = "
        f"{report['app_overhead_formula']} (model timed in {report['conditions']['workers']} "
        f"processes at once; timed alone: "
        f"{report['app_overhead_ms_per_allele_model_timed_alone']:g})",
        f"  CPU while scoring (s): {report['cpu_while_scoring']}",
        f"  results page while scoring: p50 {browse.get('p50_ms')} ms, p95 "
        f"{browse.get('p95_ms')} ms ({browse.get('requests')} requests)",
        f"  db rows/s: {report['db_rows_per_s']}",
        f"  peak RSS: {top[0]} {top[1]} MB; count check {report['count_check']}",
        f"  targets: {report['targets_met']}",
    ]


def main() -> None:
    args = parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.demo_only:
        report = run(
            args,
            database_url=args.demo_database_url,
            broker=args.demo_broker,
            records=args.demo_subset,
            model=DEMO_MODEL,
            part=max(math.ceil(args.demo_subset / 2), 1),
        )
        print(json.dumps(report, default=repr))  # one line: the parent run reads the last
        write({"demo": report}, args.out)
        print("\n".join(summary_lines(report)), file=sys.stderr)
        return
    began = time.perf_counter()
    report = {
        "cheap": run(
            args,
            database_url=args.database_url,
            broker=args.broker,
            records=args.records,
            model=CHEAP_MODEL,
            part=args.part_alleles,
        )
    }
    write(report, args.out)  # the cheap run's figures are kept even if the demo's fail
    if not args.skip_demo:
        # Django is configured once per process: the demo's database is another process's.
        child = [sys.executable, __file__, "--demo-only", "--demo-subset", str(args.demo_subset)]
        child += ["--demo-database-url", args.demo_database_url, "--demo-broker"]
        child += [args.demo_broker, "--minutes", str(args.minutes)]
        child += ["--browsers", str(args.browsers)]
        done = subprocess.run(child, cwd=ROOT, capture_output=True, text=True)
        if done.returncode == 0:
            report["demo"] = json.loads(done.stdout.strip().splitlines()[-1])
        else:
            report["demo"] = {"failed": done.returncode, "stderr_tail": done.stderr[-3000:]}
    report["total_s"] = round(time.perf_counter() - began, 1)
    print(json.dumps(report, indent=2, default=repr))
    write(report, args.out)
    for name in ("cheap", "demo"):
        if "phases_wall_s" in report.get(name, {}):
            print("\n".join(summary_lines(report[name])), file=sys.stderr)


def write(report: dict, out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=repr) + "\n")


if __name__ == "__main__":
    main()
