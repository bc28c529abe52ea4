"""What a job read besides the genome and its parameters, fingerprinted for its provenance; and
the variant allele an interpretation carries, read from the job's workspace."""

import hashlib
from dataclasses import asdict

from engine.designs.edits import Edit, apply_edits
from engine.errors import InputError
from engine.io.files import sha256_file
from engine.pipeline.common import Allele
from genomeweb.designs.models import Design
from genomeweb.jobs.models import Job, JobKind
from genomeweb.results.storage import upload_file
from genomeweb.variants.models import (
    Variant,
    VariantSet,
)


def job_inputs(job: Job) -> dict:
    """What the job read besides the genome and its parameters, by content: the same
    parameters on other contents (a re-uploaded VCF, a design's edits) must not look equal."""
    if job.kind in (JobKind.VALIDATE_VCF, JobKind.SCORE_VARIANTS):
        variant_set = (
            VariantSet.objects.filter(validation_job=job).first()
            if job.kind == JobKind.VALIDATE_VCF
            else VariantSet.objects.filter(
                workspace=job.workspace, code=job.params.get("variant_set")
            ).first()
        )
        return {"vcf": _upload_record(variant_set)} if variant_set else {}
    if job.kind == JobKind.DESIGN_PREDICT:
        return {"design": _design_record(job)}
    allele = allele_of(job) if job.params.get("allele") else None
    return {"allele": asdict(allele)} if allele else {}  # the reference side reads the genome


def _upload_record(variant_set: VariantSet) -> dict:
    upload = upload_file(variant_set)
    return {
        "name": variant_set.original_filename,
        "size": variant_set.size,
        "sha256": sha256_file(upload) if upload.is_file() else None,
    }


def _design_record(job: Job) -> dict | None:
    design = Design.objects.filter(workspace=job.workspace, code=job.params["design"]).first()
    version = design.versions.filter(number=job.params["version"]).first() if design else None
    if version is None:
        return None
    edits = [Edit.from_dict(data) for data in version.edits]
    edited = apply_edits(design.reference_sequence(), edits)
    return {
        "code": str(design.code),
        "version": version.number,
        "window": [design.chrom, design.start, design.end],
        "edits": version.edits,
        "edited_sha256": hashlib.sha256(edited.encode()).hexdigest(),
        "edited_length": len(edited),
    }


def allele_of(job: Job) -> Allele | None:
    """The variant allele a job explains instead of the reference, read from the database
    (the variant must belong to the job's workspace)."""
    wanted = job.params.get("allele")
    if not wanted or wanted["side"] == "ref":
        return None
    variant = Variant.objects.filter(
        pk=wanted["variant"], variant_set__workspace=job.workspace
    ).first()
    if variant is None:
        raise InputError("The variant of this job no longer exists.")
    if len(variant.ref) != len(variant.alt):
        raise InputError(
            "Explaining an alternative allele needs a substitution (SNV or MNV); "
            f"{variant} changes the length."
        )
    return Allele(variant.start, variant.ref, variant.alt)
