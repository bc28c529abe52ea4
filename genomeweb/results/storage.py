"""Where job outputs live on disk, and how they are recorded."""

import logging
from pathlib import Path

from django.conf import settings

from engine.io.files import sha256_file
from genomeweb.jobs.models import Job

logger = logging.getLogger(__name__)


def job_dir(job: Job) -> Path:
    """``GW_RESULTS_DIR/<job code>/``, created on first use."""
    path = settings.RESULTS_DIR / str(job.code)
    path.mkdir(parents=True, exist_ok=True)
    return path


def record_artifact(job: Job, path: Path, *, content_type: str, description: str = ""):
    """Create or refresh the Artifact row for a finished file inside the job's folder."""
    from genomeweb.results.models import Artifact

    relative = path.resolve().relative_to(settings.RESULTS_DIR)
    # Temp files are created 0600; nginx (another uid) serves results behind X-Accel-Redirect.
    path.chmod(0o644)
    artifact, _ = Artifact.objects.update_or_create(
        job=job,
        name=path.name,
        defaults={
            "relative_path": str(relative),
            "content_type": content_type,
            "description": description,
            "size": path.stat().st_size,
            "sha256": sha256_file(path),
        },
    )
    return artifact


def discard_unrecorded_files(job: Job) -> None:
    """Remove what a failed job's attempts left in its folder without recording (partial
    exports, checkpoints): only an Artifact row makes a file part of a result. Best effort: a
    failure must still be recorded when the storage cannot even be listed."""
    from genomeweb.results.models import Artifact

    folder = settings.RESULTS_DIR / str(job.code)
    if not folder.is_dir():
        return
    recorded = {
        settings.RESULTS_DIR / relative
        for relative in Artifact.objects.filter(job=job).values_list("relative_path", flat=True)
    }
    try:
        for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            elif path not in recorded:
                path.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
    except OSError:
        logger.warning("could not clear the files of failed job %s", job.code, exc_info=True)
