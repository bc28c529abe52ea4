"""A job's provenance: what produced its numbers, kept on ``Job.provenance`` and written to
``provenance.json`` in the job's folder (keys sorted). Plain data in, a JSON-ready dict out; only
``worker/jobs/`` reads the database for it.

The dict has seven sections, always all present::

    app       version (pyproject.toml), git_commit, dirty (uncommitted changes to tracked
              files; null when unknown)
    job       kind, code, parent (code or null), parts (codes of the parts a joined job
              combined; [] otherwise), params (all of them), created, started, finished
              (ISO-8601 UTC), worker, attempts
    model     name, architecture, replicates (the ones used: [{path, sha256}] as registered,
              the path relative to the project folder when inside it), replicates_registered,
              sequence_length, bin_size, crop_bp, reverse_complement, shifts, tracks
              (identifiers the job read); null when the job runs no model
    genome    name, fasta_sha256, annotation_sha256 (as registered)
    inputs    what the job read besides the genome, fingerprinted: a VCF job's upload (name,
              size, sha256); a design's version, edits and edited sequence (sha256); the
              variant allele an interpretation carries; {} when the parameters say it all
    device    type (cpu, cuda), name, autocast (dtype, or null for plain float32),
              float32_matmul_precision, torch_threads, cuda (CUDA version, or null); null when
              the job runs no model
    packages  version of each of PACKAGES (null when not installed), and python

Running the same kind with the same ``job.params``, on weights and a genome with the same
sha256, on the same device and packages, gives the same numbers
(tests/worker/test_provenance.py checks this on the demo model).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import tempfile
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path

import torch

from engine.models.ensemble import Ensemble
from engine.models.runtime import autocast_dtype

logger = logging.getLogger(__name__)

PACKAGES = (
    "Django",
    "celery",
    "torch",
    "numpy",
    "pyfaidx",
    "pyBigWig",
    "pysam",
    "borzoi-pytorch",
    "enformer-pytorch",
    "pyjaspar",
    "matplotlib",
)
GIT_TIMEOUT_SECONDS = 5
UNKNOWN = "unknown"


def assemble(
    *, app: dict, job: dict, genome: dict, used: dict | None = None, inputs: dict | None = None
) -> dict:
    """The provenance of one job.

    Args:
        app: ``app_section(...)``.
        job: ``job_section(...)``.
        genome: ``genome_section(...)``.
        used: ``model_use(...)`` or ``joined_use(...)``: the model and device sections; None
            for a job that runs no model.
        inputs: the ``inputs`` section (see the module docstring).

    Returns:
        The dict described in this module's docstring.
    """
    used = used or {"model": None, "device": None}
    return {
        "app": app,
        "job": job,
        "genome": genome,
        "inputs": inputs or {},
        "model": used["model"],
        "device": used["device"],
        "packages": package_versions(),
    }


def write(provenance: dict, directory: Path, name: str) -> Path:
    """``provenance`` as indented JSON with sorted keys in ``directory / name``, written to a
    temporary file first so a reader never sees half of it."""
    text = json.dumps(provenance, indent=2, sort_keys=True) + "\n"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    path = directory / name
    os.replace(temporary, path)
    return path


# --- the code ---------------------------------------------------------------------------------


@cache
def app_section(root: Path, git_commit: str = "") -> dict:
    """The version and commit of the code in ``root``, worked out once per process (the code a
    process runs is the code it started with).

    Args:
        root: the project folder (pyproject.toml, and .git in a checkout).
        git_commit: the commit given by the environment (GW_GIT_COMMIT; a Docker image has no
            .git); empty to ask git, and "unknown" when git cannot tell either.
    """
    if git_commit:
        return {"version": _version(root), "git_commit": git_commit, "dirty": None}
    commit = _git(root, "rev-parse", "HEAD")
    changes = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {
        "version": _version(root),
        "git_commit": commit or UNKNOWN,
        "dirty": None if changes is None else bool(changes),
    }


def _version(root: Path) -> str:
    try:
        with (root / "pyproject.toml").open("rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return UNKNOWN


def _git(root: Path, *args: str) -> str | None:
    """git's output in ``root``, or None where there is no checkout or no git."""
    if not (root / ".git").exists():  # a file, not a folder, in a git worktree
        return None
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("git %s failed in %s: %s", " ".join(args), root, error)
        return None
    return result.stdout.strip()


@cache
def package_versions() -> dict:
    """Installed versions of PACKAGES (None for those not installed) and of Python."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions


# --- the job and its inputs -------------------------------------------------------------------


def job_section(
    *,
    kind: str,
    code: str,
    params: dict,
    created: datetime,
    started: datetime | None,
    finished: datetime,
    worker: str,
    attempts: int,
    parent: str | None = None,
    parts: Sequence[str] = (),
) -> dict:
    """The job section: what was asked (kind, every parameter), when and where it ran.

    Args:
        parent: the code of the job this one is a part of.
        parts: the codes of the parts a joined job combined, in order.
    """
    return {
        "kind": kind,
        "code": code,
        "parent": parent,
        "parts": list(parts),
        "params": params,
        "created": iso_utc(created),
        "started": iso_utc(started),
        "finished": iso_utc(finished),
        "worker": worker,
        "attempts": attempts,
    }


def iso_utc(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC, e.g. ``2025-03-01T12:30:00.123456+00:00``."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def genome_section(*, name: str, fasta_sha256: str, annotation_sha256: str) -> dict:
    """The genome section, with the sha256s recorded when the genome was loaded (the
    annotation's is empty for a genome without genes)."""
    return {
        "name": name,
        "fasta_sha256": fasta_sha256,
        "annotation_sha256": annotation_sha256,
    }


def model_use(
    *,
    name: str,
    architecture: str,
    registered: Sequence[dict],
    model: Ensemble,
    tracks: Sequence[int],
) -> dict:
    """The model and device sections of a job that ran ``model``.

    Args:
        name, architecture: the model's registration.
        registered: its replicates as registered, ``[{"path", "sha256"}]``; the ensemble uses
            the first ``len(model.replicates)`` of them, in order (``runtime.ensemble``), and
            the runtime checked each one's sha256 when it loaded it.
        model: the ensemble the job ran.
        tracks: the model track indices the job read (empty for attention maps).
    """
    section = {
        "name": name,
        "architecture": architecture,
        "replicates": [dict(entry) for entry in registered[: len(model.replicates)]],
        "replicates_registered": len(registered),
        "sequence_length": model.sequence_length,
        "bin_size": model.bin_size,
        "crop_bp": model.crop_bp,
        "reverse_complement": model.use_rc,
        "shifts": list(model.shifts),
        "tracks": [model.tracks.tracks[index].identifier for index in tracks],
    }
    return {"model": section, "device": device_section(model.device)}


def joined_use(part_provenances: Sequence[dict]) -> dict:
    """The model and device sections of a job that joined its parts' results: it ran no model
    itself, its parts did, all with its parameters. The device is null when the parts ran on
    different kinds of device (each part's own provenance says which)."""
    models = [p.get("model") for p in part_provenances]
    devices = [p.get("device") for p in part_provenances]
    same_device = all(device == devices[0] for device in devices)
    return {
        "model": models[0] if models else None,
        "device": devices[0] if devices and same_device else None,
    }


def device_section(device: torch.device) -> dict:
    """Where predictions ran and in which precision (``runtime.autocast``)."""
    is_cuda = device.type == "cuda"
    dtype = autocast_dtype(device)
    return {
        "type": device.type,
        "name": torch.cuda.get_device_name(device) if is_cuda else "cpu",
        "autocast": None if dtype is None else str(dtype).removeprefix("torch."),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.version.cuda if is_cuda else None,
    }
