"""deploy/slurm/genomeweb-worker.sbatch without Slurm or GPUs: it parses (bash -n), its dry run
prints one worker per GPU and the drain times computed from the time left, and run for real with
a stand-in ``celery`` it signals the workers in order (SIGTERM to stop taking jobs, then SIGQUIT
to a worker still busy) and stops when they have."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "slurm" / "genomeweb-worker.sbatch"
PREFIX = "genomeweb-worker: "

# A stand-in for the venv's celery: notes its GPU, name and each signal it gets. "finish": a
# worker whose job ends soon after SIGTERM (warm shutdown); "busy": one still running, which
# only SIGQUIT (cold shutdown) stops.
FAKE_CELERY = f"""#!{sys.executable}
import os, signal, sys, time
log = open(os.environ["FAKE_CELERY_LOG"], "a", buffering=1)
name = sys.argv[sys.argv.index("-n") + 1]
gpu = os.environ["CUDA_VISIBLE_DEVICES"]
log.write(f"start {{name}} gpu={{gpu}} {{' '.join(sys.argv[1:])}}\\n")

def on(signum, frame):
    log.write(f"{{signal.Signals(signum).name}} {{name}}\\n")
    if signum == signal.SIGQUIT or os.environ["FAKE_CELERY_MODE"] == "finish":
        sys.exit(0)

signal.signal(signal.SIGTERM, on)
signal.signal(signal.SIGQUIT, on)
for _ in range(600):  # never outlives a test that went wrong by more than a minute
    time.sleep(0.1)
"""


def start_script(tmp_path: Path, *, time_left: str, dry_run: bool = True, **env: str):
    """The script under bash, with a Slurm job's variables faked and ``squeue`` answering
    ``time_left``; only PATH and what is given here in its environment."""
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    squeue = stubs / "squeue"
    squeue.write_text(f"#!/bin/sh\necho '{time_left}'\n")
    squeue.chmod(0o755)
    environment = {
        "PATH": f"{stubs}:/usr/bin:/bin",
        "SLURM_JOB_ID": "4242",
        "SLURMD_NODENAME": "gpu-node-7",
        "SLURM_SUBMIT_DIR": str(tmp_path / "checkout"),
        "GW_ENV_FILE": str(tmp_path / "none.env"),
        "GW_SCRATCH": str(tmp_path / "scratch"),
        **({"GW_DRY_RUN": "1"} if dry_run else {}),
        **env,
    }
    return subprocess.Popen(
        ["bash", str(SCRIPT)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its workers too: a hung run is killed whole
    )


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    try:
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def run_script(tmp_path: Path, **kwargs):
    return finish(start_script(tmp_path, **kwargs))


def said(result) -> list[str]:
    return [line.removeprefix(PREFIX) for line in result.stdout.splitlines()]


def plan(result) -> dict[str, int]:
    """``drain_after`` and ``stop_after`` as the script printed them, in seconds."""
    values = {}
    for line in said(result):
        key, _, rest = line.partition("=")
        if key in ("drain_after", "stop_after"):
            values[key] = int(rest.split()[0])
    return values


def worker_commands(result) -> list[list[str]]:
    return [line.split()[2:] for line in said(result) if line.startswith("would run: ")]


def test_the_script_parses():
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert os.access(SCRIPT, os.X_OK)


def test_slurm_reads_every_sbatch_option():
    """Slurm stops reading #SBATCH lines at the first command."""
    lines = SCRIPT.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() and line[0] != "#")
    options = [line.split()[1] for line in lines if line.startswith("#SBATCH")]
    assert not any(line.startswith("#SBATCH") for line in lines[first:])
    assert {"--nodes=1", "--ntasks=1"} <= set(options)
    assert any(o.startswith("--time=") for o in options)
    assert any(o.startswith("--gres=gpu:") for o in options)


def test_a_dry_run_prints_one_worker_per_gpu_and_the_drain_times(tmp_path):
    result = run_script(
        tmp_path,
        time_left="2:00:00",
        CUDA_VISIBLE_DEVICES="0,1,2,3",
        GW_DRAIN_MARGIN="1800",
        GW_STOP_GRACE="120",
    )
    assert result.returncode == 0, result.stderr
    assert plan(result) == {"drain_after": 7200 - 1800, "stop_after": 7200 - 120}
    commands = worker_commands(result)
    assert len(commands) == 4
    venv_celery = str(tmp_path / "checkout" / ".venv" / "bin" / "celery")
    for gpu, command in enumerate(commands):
        assert command[0] == "env"
        assert f"CUDA_VISIBLE_DEVICES={gpu}" in command
        assert f"GW_RESULTS_DIR={tmp_path}/scratch/results" in command
        assert f"GW_UPLOAD_DIR={tmp_path}/scratch/uploads" in command
        celery = command[command.index(venv_celery) + 1 :]
        assert celery[:5] == ["-A", "genomeweb", "worker", "-Q", "gpu"]
        assert "--concurrency=1" in celery and "--pool=prefork" in celery
        assert celery[celery.index("-n") + 1] == f"gpu{gpu}-slurm4242@%h"
    # a dry run starts nothing and writes nothing
    assert not (tmp_path / "scratch").exists()


@pytest.mark.parametrize(
    ("time_left", "seconds"),
    [("1-00:00:00", 86_400), ("12:30:05", 45_005), ("45:00", 2_700), ("90", 5_400)],
)
def test_the_drain_times_follow_the_time_left_in_each_slurm_format(tmp_path, time_left, seconds):
    result = run_script(tmp_path, time_left=time_left, CUDA_VISIBLE_DEVICES="0")
    assert result.returncode == 0, result.stderr
    # the defaults: stop taking jobs 30 minutes before the end, requeue 2 minutes before it
    assert plan(result) == {"drain_after": seconds - 1800, "stop_after": seconds - 120}


def test_without_cuda_visible_devices_the_gpus_are_counted(tmp_path):
    result = run_script(tmp_path, time_left="2:00:00", SLURM_GPUS_ON_NODE="2")
    assert result.returncode == 0, result.stderr
    commands = worker_commands(result)
    assert [c[1] for c in commands] == ["CUDA_VISIBLE_DEVICES=0", "CUDA_VISIBLE_DEVICES=1"]


@pytest.mark.parametrize(
    ("time_left", "env", "words"),
    [
        ("20:00", {"CUDA_VISIBLE_DEVICES": "0"}, "not more than GW_DRAIN_MARGIN"),
        ("UNLIMITED", {"CUDA_VISIBLE_DEVICES": "0"}, "cannot read the time left"),
        ("2:00:00", {}, "no GPU in this allocation"),
        (
            "2:00:00",
            {"CUDA_VISIBLE_DEVICES": "0", "GW_DRAIN_MARGIN": "60", "GW_STOP_GRACE": "60"},
            "must be below GW_DRAIN_MARGIN",
        ),
    ],
)
def test_an_allocation_it_cannot_drain_in_time_is_refused(tmp_path, time_left, env, words):
    result = run_script(tmp_path, time_left=time_left, **env)
    assert result.returncode == 2
    assert words in result.stderr
    assert not worker_commands(result)


def fake_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    celery = venv / "bin" / "celery"
    celery.write_text(FAKE_CELERY)
    celery.chmod(0o755)
    return venv


def start_real_run(tmp_path: Path, mode: str, time_left: str = "0:06"):
    return start_script(
        tmp_path,
        time_left=time_left,
        dry_run=False,
        CUDA_VISIBLE_DEVICES="0,1",
        GW_VENV=str(fake_venv(tmp_path)),
        GW_HOME=str(tmp_path),
        GW_DRAIN_MARGIN="4",
        GW_STOP_GRACE="2",
        DATABASE_URL="postgres://db.example/genomeweb",
        CELERY_BROKER_URL="redis://redis.example:6379/0",
        FAKE_CELERY_LOG=str(tmp_path / "celery.log"),
        FAKE_CELERY_MODE=mode,
    )


def real_run(tmp_path: Path, mode: str):
    result = finish(start_real_run(tmp_path, mode))
    assert result.returncode == 0, result.stdout + result.stderr
    return result, (tmp_path / "celery.log").read_text().splitlines()


def signals_to(log: list[str], gpu: int) -> list[str]:
    return [
        line.split()[0]
        for line in log
        if not line.startswith("start ") and line.endswith(f" gpu{gpu}-slurm4242@%h")
    ]


def test_workers_whose_jobs_end_get_only_sigterm(tmp_path):
    result, log = real_run(tmp_path, "finish")
    starts = sorted(line for line in log if line.startswith("start "))
    assert [s.split()[1:3] for s in starts] == [
        ["gpu0-slurm4242@%h", "gpu=0"],
        ["gpu1-slurm4242@%h", "gpu=1"],
    ]
    signals = sorted(line for line in log if not line.startswith("start "))
    assert signals == ["SIGTERM gpu0-slurm4242@%h", "SIGTERM gpu1-slurm4242@%h"]
    assert "all workers stopped (drain)" in result.stdout
    assert not (tmp_path / "scratch").exists()  # the allocation's scratch is cleared


def test_a_worker_still_busy_at_the_stop_time_gets_sigquit_after_sigterm(tmp_path):
    result, log = real_run(tmp_path, "busy")
    for gpu in (0, 1):
        assert signals_to(log, gpu) == ["SIGTERM", "SIGQUIT"]
    assert "all workers stopped (stop)" in result.stdout


def test_sigterm_to_the_script_drains_and_stops_its_workers_at_once(tmp_path):
    proc = start_real_run(tmp_path, "busy", time_left="1:00:00")  # no drain of its own for ~1 h
    log = tmp_path / "celery.log"
    for _ in range(300):
        if log.exists() and log.read_text().count("start ") == 2:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)  # as scancel or a preemption does
    result = finish(proc)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "draining now" in result.stdout and "stopping:" in result.stdout
    for gpu in (0, 1):
        # SIGTERM then SIGQUIT at once (Python runs the pending SIGQUIT's handler first)
        assert "SIGQUIT" in signals_to(log.read_text().splitlines(), gpu)
    assert "all workers stopped (stop)" in result.stdout
