"""50 lab members on one server at once: real processes on loopback, latency per request kind,
errors and memory growth; prints JSON.

    .venv/bin/python bench/bench_load.py [--minutes 10] [--users 50]
        [--database-url postgres://postgres@127.0.0.1:5432/genomeweb_load]
        [--broker redis://127.0.0.1:6379/0]

Starts what docker-compose.yml deploys, minus nginx: gunicorn with its command line (``--workers
3 --threads 4 --timeout 120``) and one Celery worker as the ``worker`` service runs it (prefork,
one pool child, yeast-demo on the CPU), on a PostgreSQL database of its own (dropped and created
again) and a Redis broker database (emptied first: messages of an earlier run name jobs of a
dropped database). Without nginx, Django itself answers the Range reads that nginx answers in
production (``ranged_file_response``), and static files are not requested.

The database holds the demo (``manage.py load_demo``) and a finished 250,000-allele scoring job
of yeast-demo in the "Demo lab" workspace: 250,000 SNVs at real positions and reference bases
near gene starts, one VariantEffect row each and two GeneEffect rows, inserted directly with the
ORM (scores drawn, log-normal, for the model's real tracks and the form's default scorers;
``bench/load_data.py`` builds it, and ``bench/bench_table.py`` times the table on it).
Scoring 250,000 alleles with the demo model would take hours on this kind of machine; the table,
filters, sorts and counts the pages run only see rows, so rows are what is built. Small real jobs
are scored by the worker before and during the run, so their files are real.

Then ``--users`` members (editors of the workspace) log in through the login form and, for
``--minutes``, browse with a pause of 1-5 s between clicks: the workspace page, the 250k job's
results table (its first page, then htmx filters, sorts, pages and searches), variant pages with
the reads igv.js makes there (the genome's FASTA index and a bgzip block, the observed bigWigs'
header, index and data blocks, a finished job's annotated VCF by its tabix index, whole-file
GETs for the small indexes and the top-hits BED), variant permalinks, and the API with personal
tokens. One member keeps the worker busy: submits a scoring job of 240 random yeast variants
through the form, polls its job page every 2 s as the page does, and submits the next when it
ends; a few others submit the 51-variant demo set while that runs.

The load generator is one asyncio process with httpx (requirements-bench.txt): 50 users cost it
little CPU (the machine's cores go to the server), each user is one cookie jar with a CSRF
token, and igv.js's exact Range sequences are a few lines; locust would bring gevent's
monkey-patching and its own web UI for what this needs.

Latency is measured by the client, from sending to the last byte, so it includes queueing for a
gunicorn worker. Memory: the resident set (VmRSS) of the gunicorn master and workers, the Celery
worker and its pool child, and PostgreSQL's backends for this database, after the first minute of
browsing (WARM_UP_S) and at the end; the growth from the first request on is printed beside it.

The Celery worker runs niced, on one thread: deployed, it has a GPU host of its own, and on this
2-core machine a worker on every core would make the run a measure of CPU contention with the
model rather than of the web.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.load_data import (  # noqa: E402
    analyze,
    build_big_job,
    demo_scoring_form,
    demo_workspace,
    fresh_database,
    setup_django,
)

PAUSE_S = (1.0, 5.0)  # a member's pause between two clicks
# Memory growth is measured from here on: by then every process has served each kind of
# request and the worker has run jobs, so caches and glibc's kept heap
# (engine.models.runtime.keep_freed_memory) have reached their working size.
WARM_UP_S = 60.0
POLL_S = 2.0  # the job page's htmx poll (templates/jobs/detail.html)
LOGIN_PASSWORD = "bench-load-password"
# Statuses a browser expects: pages, Range reads (206), htmx's stop-polling (286), a form's
# redirect (302).
EXPECTED = frozenset({200, 206, 286, 302})
TARGETS_P95_MS = {"page": 300, "range": 50}
IGV_BIGWIG_HEADER = 64_000  # igv.js reads a bigWig's header and zoom headers in one go
IGV_BLOCK = 16_384  # one data block of a bigWig or a bgzip file at a small locus


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--alleles", type=int, default=250_000)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/genomeweb_load"
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    return parser.parse_args()


# --- the database (bench/load_data.py builds its rows) --------------------------------------


def server_env(args: argparse.Namespace, var_dir: Path) -> dict[str, str]:
    """What every process of the run shares: this bench's database, broker and files."""
    return os.environ | {
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.broker,
        "GW_VAR_DIR": str(var_dir),
        "GW_SECRET_KEY": "bench-load-secret-key",
        "GW_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "genomeweb.settings",
    }


@dataclass
class World:
    """What the simulated members know: codes, ids and file addresses (plain values)."""

    workspace: str
    big_job: str
    big_set: str
    effect_ids: list[int]
    variant_codes: list[str]
    genes: list[str]
    loci: list[str]  # "chrom:pos" of the big set's alleles, for searches and regions
    usernames: list[str]
    tokens: dict[str, str]
    score_form: list[tuple[str, str]]  # the scoring form's defaults but its shifts
    small_set: str = ""
    busy_set: str = ""
    fasta: dict[str, str] = field(default_factory=dict)  # fasta, fai, gzi URLs
    bigwigs: list[dict] = field(default_factory=list)  # url, index offset, data range
    vcf: dict[str, str] = field(default_factory=dict)  # annotated.vcf.gz and .tbi URLs
    vcf_size: int = 0
    fasta_size: int = 0


def build_world(alleles: int, users: int) -> World:
    from genomeweb.catalog.models import Genome, Predictor

    genome = Genome.objects.get(name="sacCer3")
    predictor = Predictor.objects.get(name="yeast-demo")
    owner, workspace = demo_workspace()
    defaults, form = demo_scoring_form()
    job, variant_set = build_big_job(workspace, owner, form, alleles)
    effects = job.variant_effects.order_by("?").values_list("pk", "variant__code")[:2000]
    usernames, tokens = members(workspace, users)
    loci = variant_set.variants.order_by("?").values_list("chrom", "start")[:500]
    return World(
        workspace=str(workspace.code),
        big_job=str(job.code),
        big_set=str(variant_set.code),
        effect_ids=[pk for pk, _ in effects],
        variant_codes=[str(code) for _, code in effects],
        genes=list(genome.genes.exclude(name="").values_list("name", flat=True)[:3000]),
        loci=[f"{chrom}:{start + 1}" for chrom, start in loci],
        usernames=usernames,
        tokens=tokens,
        score_form=[
            (name, str(value))
            for name, values in defaults.items()
            if name != "shifts"
            for value in (values if isinstance(values, list) else [values])
        ],
        fasta=fasta_urls(genome),
        fasta_size=genome.fasta_file.stat().st_size,
        bigwigs=observed_bigwigs(predictor),
    )


def members(workspace, count: int) -> tuple[list[str], dict[str, str]]:
    """Editors of the workspace (they may submit jobs), with one API token each."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User

    from genomeweb.api.models import ApiToken
    from genomeweb.workspaces.models import Membership, Role

    hashed = make_password(LOGIN_PASSWORD)  # hashing each one would take a minute here
    users = User.objects.bulk_create(
        User(username=f"member{i:02d}", password=hashed) for i in range(1, count + 1)
    )
    Membership.objects.bulk_create(
        Membership(workspace=workspace, user=user, role=Role.EDITOR) for user in users
    )
    tokens = {user.username: ApiToken.issue(user, "load bench")[1] for user in users}
    return [user.username for user in users], tokens


def fasta_urls(genome) -> dict[str, str]:
    from genomeweb.catalog.igv import reference

    config = reference(genome)
    return {
        "fasta": config["fastaURL"],
        "fai": config["indexURL"],
        "gzi": config["compressedIndexURL"],
    }


def observed_bigwigs(predictor) -> list[dict]:
    """Each observed bigWig's URL and where igv.js reads it: its R-tree index and data."""
    import struct

    from django.urls import reverse

    found = []
    for track in predictor.tracks.exclude(observed=None).select_related("observed__genome"):
        observed = track.observed
        with open(observed.file, "rb") as stream:
            header = stream.read(40)
        # bbiHeader: magic, version, zoomLevels, chromTreeOffset, fullDataOffset, fullIndexOffset
        _, _, _, _, data_offset, index_offset = struct.unpack("<IHHQQQ", header[:32])
        url = reverse(
            "gw-observed-file", args=[observed.genome.name, observed.pk, observed.file.name]
        )
        found.append({"url": url, "data": (data_offset, index_offset), "index": index_offset})
    return found


# --- real jobs the worker runs before browsing starts -----------------------------------------


def upload_sets(world: World) -> list[int]:
    """The demo VCF (51 records) and 240 random yeast variants, as members upload them; returns
    their validation jobs."""
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bench.bench_estimates import vcf_text
    from genomeweb.catalog.models import Genome
    from genomeweb.variants.submit import submit_variant_set
    from genomeweb.workspaces.models import Workspace

    uploaded = {}
    for name, size in (("small", 51), ("busy", 240)):
        uploaded[name] = submit_variant_set(
            workspace=Workspace.objects.get(code=world.workspace),
            user=User.objects.get(username="demo"),
            genome=Genome.objects.get(name="sacCer3"),
            name=f"{size} variants",
            upload=SimpleUploadedFile(f"{name}.vcf", vcf_text(size).encode()),
            submission=uuid.uuid4(),
        )
    world.small_set, world.busy_set = (str(uploaded[n].code) for n in ("small", "busy"))
    return [variant_set.validation_job_id for variant_set in uploaded.values()]


def score_small_set(world: World) -> int:
    """A finished scoring job's annotated VCF is what igv.js reads by its tabix index."""
    from django.contrib.auth.models import User

    from genomeweb.variants.models import VariantSet
    from genomeweb.variants.submit import submit_scoring

    variant_set = VariantSet.objects.get(code=world.small_set)
    job = submit_scoring(
        variant_set=variant_set,
        user=User.objects.get(username="demo"),
        params=first_job_params(variant_set, world),
    )
    return job.pk


def first_job_params(variant_set, world: World) -> dict:
    from django.http import QueryDict

    from genomeweb.variants.forms import ScoreForm
    from genomeweb.variants.submit import scoring_params

    data = QueryDict(mutable=True)
    for name, value in world.score_form + [("shifts", "0")]:
        data.appendlist(name, value)
    form = ScoreForm(data, genome=variant_set.genome)
    assert form.is_valid(), form.errors
    tracks = list(form.chosen_tracks().values_list("identifier", flat=True))
    return scoring_params(variant_set, form.cleaned_data, tracks)


def record_vcf_files(world: World, job_id: int) -> None:
    from django.urls import reverse

    from genomeweb.jobs.models import Job

    artifacts = {a.name: a for a in Job.objects.get(pk=job_id).artifacts.all()}
    for key, name in (("vcf", "annotated.vcf.gz"), ("tbi", "annotated.vcf.gz.tbi")):
        world.vcf[key] = reverse("gw-artifact-named", args=[artifacts[name].code, name])
    world.vcf_size = artifacts["annotated.vcf.gz"].path.stat().st_size


def wait_for_jobs(job_ids: list[int], timeout_s: float = 1800) -> None:
    from genomeweb.jobs.models import Job, JobStatus

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        jobs = list(Job.objects.filter(pk__in=job_ids))
        if all(job.is_final for job in jobs):
            failed = [job.error for job in jobs if job.status != JobStatus.SUCCEEDED]
            assert not failed, failed
            return
        time.sleep(0.5)
    raise TimeoutError(f"jobs {job_ids} did not finish in {timeout_s} s")


# --- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_processes(env: dict[str, str], port: int, logs: Path) -> dict[str, subprocess.Popen]:
    """gunicorn and the Celery worker with docker-compose.yml's command lines."""
    bin_dir = ROOT / ".venv" / "bin"
    commands = {
        "gunicorn": [str(bin_dir / "gunicorn"), "genomeweb.wsgi:application"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "3", "--threads", "4", "--timeout", "120"],
        # In production the worker has a GPU host of its own; here it shares the web's cores, so
        # it runs at low priority on one thread and the run measures the web, not the model.
        "celery": ["nice", "-n", "10", str(bin_dir / "celery"), "-A", "genomeweb", "worker"]
        + ["-Q", "gpu", "-I", "worker.tasks", "--pool=prefork", "--concurrency=1", "-n", "gpu0@%h"],
    }
    envs = {
        "gunicorn": env | {"MALLOC_ARENA_MAX": "2"},  # as the Dockerfile sets it
        "celery": env | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    }
    return {
        name: subprocess.Popen(
            command,
            cwd=ROOT,
            env=envs[name],
            stdout=subprocess.DEVNULL,
            stderr=open(logs / f"{name}.log", "wb"),  # noqa: SIM115 (closed with the process)
        )
        for name, command in commands.items()
    }


def wait_listening(port: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"gunicorn did not listen on {port} in {timeout_s} s")


def stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


# --- memory -----------------------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kb) / 1024


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the field after the state is the parent's pid
            found.append(int(stat.parent.name))
    return sorted(found)


def memory(processes: dict[str, subprocess.Popen], database_url: str) -> dict[str, float]:
    """RSS in MB of gunicorn's master and workers, the Celery worker and its pool child, and
    PostgreSQL's backends of this database (summed: they come and go with connections)."""
    import psycopg

    sampled = {}
    for name, role in (("gunicorn", "worker"), ("celery", "pool child")):
        master = processes[name].pid
        sampled[f"{name} master {master}"] = rss_mb(master)
        for child in children(master):
            sampled[f"{name} {role} {child}"] = rss_mb(child)
    with psycopg.connect(database_url) as connection:  # not Django's: this runs in the loop
        found = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    backends = [rss_mb(pid) or 0 for (pid,) in found]
    sampled[f"postgres backends ({len(backends)}, total)"] = sum(backends)
    return {name: round(mb, 1) for name, mb in sampled.items() if mb is not None}


def growth(start: dict[str, float], end: dict[str, float]) -> dict[str, dict]:
    return {
        name: {
            "start_mb": start[name],
            "end_mb": end[name],
            "growth_pct": round(100 * (end[name] - start[name]) / start[name], 1),
        }
        for name in start
        if name in end and start[name] and not name.startswith("postgres")
    }


# --- the members ------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Every timed request: (kind, what, milliseconds, expected status?)."""

    timings: list[tuple[str, str, float, bool]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, kind: str, what: str, began: float, status: int | str) -> None:
        ok = status in EXPECTED
        self.timings.append((kind, what, 1000 * (time.perf_counter() - began), ok))
        if not ok:
            self.failures.append(f"{kind} {what}: {status}")


@dataclass
class Member:
    client: httpx.AsyncClient
    token: str
    recorder: Recorder
    rng: random.Random

    async def get(self, kind: str, what: str, url: str, **options) -> httpx.Response | None:
        return await self._send(kind, what, "GET", url, **options)

    async def post(self, kind: str, what: str, url: str, data) -> httpx.Response | None:
        fields: dict[str, list[str]] = {"csrfmiddlewaretoken": [self.client.cookies["csrftoken"]]}
        for name, value in data:  # a form's repeated fields (scorers) as httpx sends them
            fields.setdefault(name, []).append(value)
        return await self._send(kind, what, "POST", url, data=fields)

    async def _send(self, kind, what, method, url, **options) -> httpx.Response | None:
        began = time.perf_counter()
        try:
            response = await self.client.request(method, url, **options)
        except httpx.HTTPError as error:
            self.recorder.add(kind, what, began, type(error).__name__)
            return None
        self.recorder.add(kind, what, began, response.status_code)
        return response

    async def log_in(self, username: str) -> None:
        await self.get("login", "login form", "/accounts/login/")
        data = [("username", username), ("password", LOGIN_PASSWORD)]
        await self.post("login", "log in", "/accounts/login/", data)


HTMX = {"HX-Request": "true"}


def table_query(world: World, rng: random.Random) -> tuple[str, dict]:
    """One click on the results table: a page, a sort, a filter or a search."""
    chrom, pos = rng.choice(world.loci).split(":")
    start = max(int(pos) - rng.randrange(1_000, 100_000), 1)
    choices = [
        ("next page", {"page": str(rng.randrange(2, 6))}),
        ("far page", {"page": str(rng.randrange(100, 5_000))}),
        ("sort by position", {"sort": "position", "dir": rng.choice(("asc", "desc"))}),
        ("sort by gene", {"sort": "gene", "dir": "asc"}),
        ("sort by track", {"sort": "track", "dir": "asc"}),
        ("sort by percentile", {"sort": "percentile"}),
        ("gene filter", {"gene": rng.choice(world.genes)}),
        ("region filter", {"region": f"{chrom}:{start:,}-{int(pos) + 50_000:,}"}),
        ("min |score|", {"min_abs": rng.choice(("0.05", "0.1", "0.5"))}),
        ("scorer SUM, min", {"scorer": "SUM", "min_abs": "5"}),
        ("min percentile", {"min_pct": "99"}),
        ("track filter", {"track": rng.choice(("minus", "WT_1", "D_2"))}),
        ("marked interesting", {"mark": "interesting"}),
        ("search gene", {"q": rng.choice(world.genes)}),
        ("search position", {"q": f"{chrom}:{pos}"}),
        ("histogram bar", {"primary_from": "0.01", "primary_to": "0.05"}),
    ]
    return rng.choice(choices)


async def visit_workspace(member: Member, world: World) -> None:
    await member.get("page", "workspace", f"/w/{world.workspace}/")
    if member.rng.random() < 0.3:
        search = f"/w/{world.workspace}/variants/search/"
        query = {"q": member.rng.choice(world.genes)}
        await member.get("fragment", "workspace search", search, params=query, headers=HTMX)


async def visit_results(member: Member, world: World) -> None:
    """The 250k job's table, then a few clicks on it, each a fragment as htmx sends it."""
    url = f"/jobs/{world.big_job}/effects/"
    await member.get("page", "results table", url)
    await member.get("fragment", "bundle panel", f"/jobs/{world.big_job}/bundle/", headers=HTMX)
    for _ in range(member.rng.randrange(1, 5)):
        await asyncio.sleep(member.rng.uniform(*PAUSE_S))
        what, query = table_query(world, member.rng)
        await member.get("fragment", f"results: {what}", url, params=query, headers=HTMX)


async def visit_variant(member: Member, world: World) -> None:
    """A variant's page on the 250k job, then what igv.js reads to draw it."""
    effect = member.rng.choice(world.effect_ids)
    await member.get("page", "variant page", f"/jobs/{world.big_job}/effects/{effect}/")
    await igv_reads(member, world)


async def igv_reads(member: Member, world: World) -> None:
    """igv.js: the FASTA's indexes whole and one bgzip block; per coverage panel (two) the
    bigWig's header, its R-tree index and a data block; now and then a job's VCF by its
    tabix index. Each request waits for the one before, as igv.js's do per file."""
    rng = member.rng
    await member.get("range", "fasta .fai", world.fasta["fai"])
    await member.get("range", "fasta .gzi", world.fasta["gzi"])
    await read_range(member, "fasta block", world.fasta["fasta"], rng.randrange(world.fasta_size))
    for bigwig in rng.sample(world.bigwigs, 2):
        await read_range(member, "bigWig header", bigwig["url"], 0, IGV_BIGWIG_HEADER)
        await read_range(member, "bigWig index", bigwig["url"], bigwig["index"], 8_192)
        data_start = rng.randrange(*bigwig["data"])
        await read_range(member, "bigWig data", bigwig["url"], data_start)
    if rng.random() < 0.3:
        await member.get("range", "vcf .tbi", world.vcf["tbi"])
        await read_range(member, "vcf block", world.vcf["vcf"], 0, min(world.vcf_size, IGV_BLOCK))


async def read_range(member, what: str, url: str, start: int, size: int = IGV_BLOCK) -> None:
    headers = {"Range": f"bytes={start}-{start + size - 1}"}
    await member.get("range", what, url, headers=headers)


async def visit_permalink(member: Member, world: World) -> None:
    await member.get(
        "page", "variant permalink", f"/variants/{member.rng.choice(world.variant_codes)}/"
    )


async def visit_api(member: Member, world: World) -> None:
    """A script's listing: workspaces, a page of the 250k job's effects, the job itself."""
    auth = {"Authorization": f"Bearer {member.token}"}
    query = {
        "page": str(member.rng.randrange(1, 100)),
        "sort": member.rng.choice(("score", "position")),
    }
    await member.get("api", "api workspaces", "/api/v1/workspaces", headers=auth)
    await member.get(
        "api", "api results", f"/api/v1/jobs/{world.big_job}/results", params=query, headers=auth
    )
    await member.get("api", "api job", f"/api/v1/jobs/{world.big_job}", headers=auth)


async def visit_bed(member: Member, world: World) -> None:
    """igv.js loads a BED without an index whole: the table's top hits (10,000 rows)."""
    await member.get("download", "top-hits BED", f"/jobs/{world.big_job}/effects.bed")


VISITS = [
    (visit_workspace, 2),
    (visit_results, 4),
    (visit_variant, 3),
    (visit_permalink, 1),
    (visit_api, 2),
    (visit_bed, 0.2),
]


async def browse(member: Member, world: World, deadline: float) -> None:
    visits, weights = zip(*VISITS, strict=True)
    while time.monotonic() < deadline:
        await member.rng.choices(visits, weights)[0](member, world)
        await asyncio.sleep(member.rng.uniform(*PAUSE_S))


async def submit_and_watch(
    member: Member, world: World, set_code: str, shifts: str, deadline: float
) -> bool:
    """The scoring form (its page, then the POST), then the job page's poll until the job is
    final (True) or the run ends."""
    form = f"/variant-sets/{set_code}/score/"
    await member.get("page", "scoring form", form)
    response = await member.post(
        "submit", "submit scoring", form, world.score_form + [("shifts", shifts)]
    )
    if response is None or response.status_code != 302:
        return False
    job = response.headers["Location"].split("/jobs/")[1].split("/")[0]
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        poll = await member.get("fragment", "job page poll", f"/jobs/{job}/", headers=HTMX)
        if poll is not None and poll.status_code == 286:  # htmx: final, stop polling
            return True
    return False


async def keep_worker_busy(member: Member, world: World, deadline: float) -> int:
    """One member's scoring jobs, one after another, so a job is always running; each asks
    for other input shifts (the same analysis again would find the first job)."""
    finished = 0
    for shift in range(1, 1_000):
        if time.monotonic() >= deadline:
            break
        finished += await submit_and_watch(member, world, world.busy_set, str(shift), deadline)
    return finished


async def submit_now_and_then(
    member: Member, world: World, at: float, serial: int, deadline: float
) -> int:
    """A member who submits the demo set once, at ``at``, while the busy job runs."""
    await asyncio.sleep(max(at - time.monotonic(), 0))
    return await submit_and_watch(member, world, world.small_set, f"0,{serial}", deadline)


async def run_load(
    world: World,
    base: str,
    minutes: float,
    recorder: Recorder,
    at_start: Callable[[], None],
    at_warm: Callable[[], None],
) -> dict:
    # gunicorn's gthread workers close a connection idle for 2 s (--keep-alive); a client that
    # reuses one just then reads a closed socket. Browsers retry such a GET, httpx does not, so
    # the members drop idle connections first (behind nginx, browsers never talk to gunicorn).
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4, keepalive_expiry=1.0)
    clients = [
        httpx.AsyncClient(base_url=base, timeout=120, limits=limits, follow_redirects=False)
        for _ in world.usernames
    ]
    users = [
        Member(client, world.tokens[name], recorder, random.Random(i))
        for i, (client, name) in enumerate(zip(clients, world.usernames, strict=True))
    ]
    logins = zip(users, world.usernames, strict=True)
    await asyncio.gather(*(user.log_in(name) for user, name in logins))
    at_start()
    try:
        return await timed_window(world, users, minutes, at_warm)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


async def timed_window(
    world: World, users: list[Member], minutes: float, at_warm: Callable[[], None]
) -> dict:
    """The first member keeps the worker busy, a few submit now and then, the others browse;
    ``at_warm`` is called once the first WARM_UP_S are over."""
    began = time.monotonic()
    deadline = began + 60 * minutes
    submissions = max(2, round(minutes / 2))
    submitters = [
        submit_now_and_then(
            users[1 + i], world, began + 60 * minutes * (i + 0.5) / submissions, i + 1, deadline
        )
        for i in range(submissions)
    ]
    browsers = [browse(user, world, deadline) for user in users[1 + submissions :]]
    busy, _, *results = await asyncio.gather(
        keep_worker_busy(users[0], world, deadline),
        call_later(min(WARM_UP_S, 30 * minutes), at_warm),
        *submitters,
        *browsers,
    )
    return {
        "busy_jobs_finished": busy,
        "small_jobs_submitted": submissions,
        "small_jobs_finished": sum(results[:submissions]),
        "seconds": round(time.monotonic() - began, 1),
    }


async def call_later(seconds: float, callback: Callable[[], None]) -> None:
    await asyncio.sleep(seconds)
    callback()


# --- the report -------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    import numpy as np

    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50_ms": round(float(p50), 1),
        "p95_ms": round(float(p95), 1),
        "p99_ms": round(float(p99), 1),
    }


def latency_report(recorder: Recorder) -> dict:
    """Per request kind, and the ten slowest requests by their p95 (where to look first)."""
    by_kind: dict[str, list] = {}
    by_what: dict[str, list] = {}
    for kind, what, ms, ok in recorder.timings:
        by_kind.setdefault(kind, []).append((ms, ok))
        by_what.setdefault(f"{kind}: {what}", []).append((ms, ok))
    kinds = {
        kind: {"requests": len(rows), **percentiles([ms for ms, _ in rows])}
        | {"errors": sum(not ok for _, ok in rows)}
        for kind, rows in by_kind.items()
    }
    slowest = sorted(
        ((what, len(rows), percentiles([ms for ms, _ in rows])) for what, rows in by_what.items()),
        key=lambda row: -row[2]["p95_ms"],
    )[:10]
    return {
        "kinds": kinds,
        "slowest": {what: {"requests": n, **p} for what, n, p in slowest},
        "errors": len(recorder.failures),
        "first_errors": recorder.failures[:10],
    }


def verdict(kinds: dict, memory_growth: dict) -> dict:
    browsing = [k for k in kinds if k != "login"]
    return {
        # None: the run was too short for any such request
        "pages_p95_under_300_ms": under_target(kinds, "page"),
        "range_p95_under_50_ms": under_target(kinds, "range"),
        "no_errors": sum(kinds[k]["errors"] for k in browsing) == 0,
        "memory_growth_under_10_pct": all(m["growth_pct"] < 10 for m in memory_growth.values()),
    }


def under_target(kinds: dict, kind: str) -> bool | None:
    return kinds[kind]["p95_ms"] < TARGETS_P95_MS[kind] if kind in kinds else None


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# --- the run ----------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    var_dir = Path(tempfile.mkdtemp(prefix="gw-load-"))
    env = server_env(args, var_dir)
    fresh_database(args.database_url)
    import redis

    redis.Redis.from_url(args.broker).flushdb()
    began = time.perf_counter()
    setup_django(env)
    world = build_world(args.alleles, args.users)
    rows_seconds = time.perf_counter() - began
    port = free_port()
    processes = start_processes(env, port, var_dir)
    try:
        wait_for_jobs(upload_sets(world))
        first_job = score_small_set(world)
        wait_for_jobs([first_job])
        record_vcf_files(world, first_job)
        wait_listening(port)
        analyze()
        report = measure(world, port, args, processes)
        print(json.dumps(report | {"rows_built_s": round(rows_seconds)}, indent=2))
    finally:
        stop(processes)
    print(f"logs: {var_dir}", file=sys.stderr)


def measure(world: World, port: int, args: argparse.Namespace, processes) -> dict:
    recorder = Recorder()
    started: dict = {}

    def at_start() -> None:  # after the logins: their password checks are no browsing
        started["cold memory"] = memory(processes, args.database_url)
        started["load"] = load_average()

    def at_warm() -> None:
        started["memory"] = memory(processes, args.database_url)

    base = f"http://127.0.0.1:{port}"
    jobs = asyncio.run(run_load(world, base, args.minutes, recorder, at_start, at_warm))
    end_memory = memory(processes, args.database_url)
    latency = latency_report(recorder)
    memory_growth = growth(started["memory"], end_memory)
    backends = [name for name in end_memory if name.startswith("postgres")]
    return {
        "conditions": {
            "users": len(world.usernames),
            "minutes": args.minutes,
            "alleles_in_job": args.alleles,
            "rows_note": "250k job rows inserted with the ORM, not scored by the model",
            "cpus": os.cpu_count(),
            "load_average_at_start": started["load"],
            "load_average_at_end": load_average(),
        },
        "requests": latency["kinds"],
        "slowest": latency["slowest"],
        "errors": latency["errors"],
        "first_errors": latency["first_errors"],
        "memory": memory_growth,
        "memory_from_cold_start": growth(started["cold memory"], end_memory),
        "postgres_backends_mb": {
            "start": [(n, v) for n, v in started["memory"].items() if n.startswith("postgres")],
            "end": [(n, end_memory[n]) for n in backends],
        },
        "jobs": jobs,
        "targets_met": verdict(latency["kinds"], memory_growth),
    }


if __name__ == "__main__":
    main()
