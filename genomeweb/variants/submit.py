"""Store an uploaded VCF under a generated name and start its validation job."""

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.functions import Length
from django.utils.text import get_valid_filename

from engine.io.files import fast_substitution_cost
from engine.variants.windows import forward_passes, pass_cost, window_step
from genomeweb.catalog.models import Genome, resolve_data_path
from genomeweb.jobs.enqueue import enqueue
from genomeweb.jobs.models import Job, JobKind
from genomeweb.jobs.submit import submit_once
from genomeweb.results.storage import discard_upload, keep_upload
from genomeweb.variants.models import VariantSet
from genomeweb.workspaces.models import Workspace


def display_name(filename: str) -> str:
    """A harmless version of a user's file name, for display only (never used as a path)."""
    base = os.path.basename(filename.replace("\\", "/"))
    return (get_valid_filename(base) if base.strip(". ") else "upload.vcf")[:200]


def store_upload(upload: UploadedFile, workspace: Workspace) -> str:
    """Write the upload to ``GW_UPLOAD_DIR/<workspace>/<uuid>.vcf[.gz]``; return that name."""
    suffix = ".vcf.gz" if upload.name.lower().endswith((".gz", ".bgz")) else ".vcf"
    stored = f"{workspace.code}/{uuid.uuid4().hex}{suffix}"
    path = settings.UPLOAD_DIR / stored
    path.parent.mkdir(parents=True, exist_ok=True)
    with Path(path).open("xb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    keep_upload(stored)  # into object storage, where a worker on another host reads it
    return stored


def submit_variant_set(
    *, workspace, user, genome: Genome, upload: UploadedFile, name: str, submission: uuid.UUID
) -> VariantSet:
    """Create the variant set and its validation job once per form submission."""
    key = f"upload:{submission}"
    existing = VariantSet.objects.filter(workspace=workspace, validation_job__idempotency_key=key)
    if found := existing.first():
        return found
    stored = store_upload(upload, workspace)
    with transaction.atomic():
        job, created = Job.submit(
            workspace=workspace,
            user=user,
            kind=JobKind.VALIDATE_VCF,
            params={"genome": genome.name},
            idempotency_key=key,
        )
        if not created:  # a concurrent twin of this request got there first
            discard_upload(stored)
            return VariantSet.objects.get(validation_job=job)
        variant_set = VariantSet.objects.create(
            workspace=workspace,
            genome=genome,
            name=name or display_name(upload.name),
            original_filename=display_name(upload.name),
            stored_name=stored,
            size=upload.size,
            created_by=user,
            validation_job=job,
        )
        job.params["variant_set"] = str(variant_set.code)
        job.save(update_fields=["params"])
        enqueue(job.pk)
    return variant_set


def scoring_params(variant_set: VariantSet, form_data: dict, track_ids: list[str]) -> dict:
    """The job's parameters: everything the worker needs, nothing it must trust from elsewhere."""
    return {
        "variant_set": str(variant_set.code),
        "model": form_data["model"].name,
        "tracks": track_ids,
        "scorers": list(form_data["scorers"]),
        "reverse_complement": form_data["reverse_complement"],
        "shifts": form_data["shifts"],
        "replicates": form_data["replicates"],
        "genes": form_data["genes"],
    }


def submit_scoring(*, variant_set: VariantSet, user, params: dict) -> Job:
    """One scoring job per distinct analysis (see ``submit_once``)."""
    return submit_once(
        workspace=variant_set.workspace,
        user=user,
        kind=JobKind.SCORE_VARIANTS,
        params=params,
        key_prefix="score",
    )


def estimate_passes(variant_set: VariantSet, predictor, params: dict) -> int:
    """Forward passes the job will run (shown before launch)."""
    step = window_step(predictor.output_bins, predictor.bin_size)
    return forward_passes(_loci(variant_set), step, per_pass=_per_pass(params))


def estimate_pass_cost(variant_set: VariantSet, predictor, params: dict) -> float:
    """Those passes in whole-pass equivalents (``pass_cost``): what the time estimate scales,
    since a substitution's pass costs a fraction of a whole one under the fast path."""
    step = window_step(predictor.output_bins, predictor.bin_size)
    replicate = resolve_data_path(predictor.replicates[0]["path"])
    return pass_cost(
        _loci(variant_set),
        step,
        per_pass=_per_pass(params),
        substitution_cost=fast_substitution_cost(replicate),
    )


def _per_pass(params: dict) -> int:
    return (2 if params["reverse_complement"] else 1) * len(params["shifts"]) * params["replicates"]


def _loci(variant_set: VariantSet):
    rows = variant_set.variants.values_list("chrom", "start", Length("ref"), Length("alt"))
    return rows.iterator(chunk_size=5000)
