"""What a job's bundle holds: its result files, the inputs it read, its provenance.

The web uses this to show the size before anything is built; the worker adds the files it
generates for the bundle (the offline report, a design's sequences) and writes the zip.
"""

from pathlib import Path

from engine.io.bundles import Entry, entry, unique_names
from genomeweb.jobs.models import PROVENANCE_FILE, Job, JobKind
from genomeweb.results.storage import upload_file, upload_size
from genomeweb.variants.models import VariantSet

VCF_JOBS = (JobKind.VALIDATE_VCF, JobKind.SCORE_VARIANTS)
# What a provenance.json holds (worker/provenance.py), said in each one's description.
PROVENANCE_HOLDS = "code, model and weights, genome, parameters, device and packages"
# Short names for the provenance of a job whose files a bundle holds as inputs.
INPUT_JOB_NAMES = {JobKind.VALIDATE_VCF: "validation"}


def job_entries(job: Job, generated: list[Entry] = (), *, fetch: bool = False) -> list[Entry]:
    """The job's files under ``outputs/``, what it read under ``inputs/``, ``generated``
    (files made for the bundle) as given, and the job's provenance.json at the top.

    With ``fetch`` (the worker, which zips them) each path is a local file, fetched from object
    storage if need be; without, the web only counts sizes and nothing is read."""
    entries = [_artifact_entry(artifact, job, fetch=fetch) for artifact in job.artifacts.all()]
    entries += _input_entries(job, fetch)
    entries += generated
    return unique_names(entries)


def estimated_size(job: Job) -> int:
    """Bytes of the files before zipping (compressed results barely shrink; text does)."""
    return sum(item.size for item in job_entries(job))


def _artifact_entry(artifact, job: Job, folder: str = "outputs", *, fetch: bool) -> Entry:
    path = artifact.path if fetch else artifact.local_path
    if artifact.name == PROVENANCE_FILE:
        return _provenance_entry(artifact, path, job, folder)
    return entry(folder, artifact.name, path, artifact.sha256, artifact.size, artifact.description)


def _provenance_entry(artifact, path: Path, job: Job, folder: str) -> Entry:
    """The bundled job's own provenance.json at the top; an input job's (the validation that
    produced the normalised VCF) beside its files under its own name, both saying whose it is."""
    which = f"{job.get_kind_display()} job {str(job.code)[:8]}"
    if folder == "outputs":
        description = f"Provenance of this job ({which}): {PROVENANCE_HOLDS}"
        return entry("", artifact.name, path, artifact.sha256, artifact.size, description)
    name = f"{INPUT_JOB_NAMES.get(job.kind, job.kind)}-{PROVENANCE_FILE}"
    description = f"Provenance of the {which} that made these inputs: {PROVENANCE_HOLDS}"
    return entry(folder, name, path, artifact.sha256, artifact.size, description)


def _input_entries(job: Job, fetch: bool) -> list[Entry]:
    """A VCF job's upload (as sent) and its normalised form with the validation report."""
    if job.kind not in VCF_JOBS:
        return []
    variant_set = _variant_set(job)
    if variant_set is None:
        return []
    entries = []
    size = upload_size(variant_set)
    if size is not None:
        upload = upload_file(variant_set) if fetch else variant_set.upload_path
        # The job's provenance hashed the upload when it finished; a job from before provenance
        # has "" here, filled in by the worker before the bundle is hashed.
        sha256 = (job.provenance.get("inputs", {}).get("vcf") or {}).get("sha256") or ""
        description = f"The VCF as uploaded ({variant_set.original_filename})"
        name = variant_set.original_filename
        entries.append(entry("inputs", name, upload, sha256, size, description))
    validation = variant_set.validation_job
    if validation is not None and validation != job:
        entries += [
            _artifact_entry(a, validation, "inputs", fetch=fetch)
            for a in validation.artifacts.all()
        ]
    return entries


def _variant_set(job: Job) -> VariantSet | None:
    sets = VariantSet.objects.filter(workspace=job.workspace)
    if job.kind == JobKind.VALIDATE_VCF:
        return sets.filter(validation_job=job).first()
    return sets.filter(code=job.params.get("variant_set")).first()
