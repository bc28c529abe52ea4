"""Celery tasks: the only worker module that touches Django models or Celery.

A message carries only a job id. Everything else (the kind, the parameters, who asked) is read
from the Job row, which the worker claims atomically before doing anything.
"""

import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from celery.exceptions import MaxRetriesExceededError, SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from genomeweb.catalog.models import Gene as CatalogGene
from genomeweb.catalog.models import Genome, Predictor, resolve_data_path
from genomeweb.celery import app
from genomeweb.designs.edits import Edit, apply_edits
from genomeweb.designs.models import Design
from genomeweb.genomics.annotation import read_genes
from genomeweb.genomics.intervals import Interval
from genomeweb.genomics.motif_scan import load_matrices, tax_group_for_species
from genomeweb.genomics.vcf import Variant as GenomicVariant
from genomeweb.genomics.vcf import VcfLimits
from genomeweb.jobs.enqueue import enqueue
from genomeweb.jobs.models import PROVENANCE_FILE, Claim, Job, JobKind, JobStatus
from genomeweb.jobs.sweep import sweep_jobs
from genomeweb.lib.files import sha256_file
from genomeweb.lib.ism import MAX_ISM_BP
from genomeweb.lib.windows import part_ranges, window_step
from genomeweb.results.bundles import (
    Entry,
    bundle_filename,
    contents_hash,
    entry,
    readme,
    write_bundle,
)
from genomeweb.results.contents import job_entries
from genomeweb.results.storage import job_dir, record_artifact
from genomeweb.variants.models import (
    REPORT_ISSUE_ROWS,
    GeneEffect,
    Variant,
    VariantEffect,
    VariantSet,
)
from worker import interpret, provenance, runtime
from worker.adapters.ensemble import Ensemble
from worker.errors import JobCancelled, JobInputError
from worker.heartbeat import Heartbeat
from worker.pipeline import (
    Allele,
    Progress,
    ScoredAlleles,
    ValidationOutput,
    join_parts,
    predict_design,
    run_attention,
    run_ism,
    run_saliency,
    run_variant_scoring,
    run_vcf_validation,
    save_part,
    score_alleles,
    summary_rows,
    write_scoring_exports,
    write_variant_tracks,
)
from worker.report import ReportSite, ReportTrack, write_design_report, write_variant_report

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
VARIANT_BATCH = 5000
PART_FILE = "part_scores.npz"


@app.task(
    name="worker.run_job",
    bind=True,
    autoretry_for=DATABASE_ERRORS,
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=20,
)
def run_job(self, job_id: int) -> None:
    claim = Job.claim(job_id, worker=self.request.hostname or "", task_id=self.request.id or "")
    if claim == Claim.BUSY:
        # Another worker holds the job and still beats (e.g. this message was redelivered after
        # a kill, and the heartbeat has not gone stale yet): look again when it would be stale.
        # After max_retries the message is dropped; the sweeper still watches the row.
        try:
            raise self.retry(countdown=settings.JOB_STALE_SECONDS)
        except MaxRetriesExceededError:
            logger.info("job %s is still held by a live worker; dropping this message", job_id)
            return
    if claim == Claim.CLAIMED:
        execute(Job.objects.get(pk=job_id))


@app.task(name="worker.sweep_jobs")
def sweep() -> None:
    sweep_jobs()


def execute(job: Job) -> None:
    """Run a claimed job and record how it ended. User errors fail the job with their message."""
    if not job.submitter_may_run():
        job.fail("The member who submitted this job no longer has the access it needs here.")
        return
    try:
        with Heartbeat(job) as heartbeat:
            HANDLERS[job.kind](job, heartbeat.progress)
    except JobCancelled:
        job.mark_cancelled()
    except JobInputError as error:
        job.fail(str(error))
    except SoftTimeLimitExceeded:
        job.fail(f"The job ran longer than the limit of {settings.JOB_SOFT_TIME_LIMIT} seconds.")
    except DATABASE_ERRORS:
        raise  # retried by Celery; the claim resumes the job once its heartbeat is stale
    except Exception:
        logger.exception("job %s (%s) failed", job.code, job.kind)
        job.fail(f"An internal error stopped the job. Reference for the administrator: {job.code}")
        raise


def finish_job(job: Job, summary: dict, genome: Genome, used: dict | None = None) -> bool:
    """The one place a job succeeds: its summary and its provenance, on the row and as
    provenance.json in its folder, inside the caller's transaction.

    Args:
        used: the model and device the job ran (``_model_use``), or None when it ran no model.

    Returns:
        False when this attempt no longer owns the job: the caller then rolls back.
    """
    finished = timezone.now()
    record = provenance.assemble(
        app=provenance.app_section(settings.BASE_DIR, settings.GIT_COMMIT),
        job=_job_record(job, finished),
        genome=provenance.genome_section(
            name=genome.name,
            fasta_sha256=genome.fasta_sha256,
            annotation_sha256=genome.annotation_sha256,
        ),
        used=used,
        inputs=_inputs(job),
    )
    if not job.finish(summary, provenance=record, finished_at=finished):
        return False
    # Written only by the attempt that finished (a few kB, so inside the transaction is fine):
    # a late attempt that lost the job must not replace the file the row describes.
    path = provenance.write(record, job_dir(job), PROVENANCE_FILE)
    record_artifact(
        job,
        path,
        content_type="application/json",
        description="Provenance: code, model and weights, genome, parameters, device, packages",
    )
    return True


def _inputs(job: Job) -> dict:
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
    allele = _allele(job) if job.params.get("allele") else None
    return {"allele": asdict(allele)} if allele else {}  # the reference side reads the genome


def _upload_record(variant_set: VariantSet) -> dict:
    upload = variant_set.upload_path
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


def _job_record(job: Job, finished: datetime) -> dict:
    joined = job.parts.order_by("params__part") if job.kind == JobKind.SCORE_VARIANTS else []
    return provenance.job_section(
        kind=job.kind,
        code=str(job.code),
        parent=str(job.parent.code) if job.parent_id else None,
        parts=[str(part.code) for part in joined],
        params=job.params,
        created=job.created,
        started=job.started_at,
        finished=finished,
        worker=job.worker,
        attempts=job.attempts,
    )


def _model_use(predictor: Predictor, model: Ensemble, tracks: list[int]) -> dict:
    return provenance.model_use(
        name=predictor.name,
        architecture=predictor.architecture,
        registered=predictor.replicates,
        model=model,
        tracks=tracks,
    )


def vcf_limits() -> VcfLimits:
    return VcfLimits(
        max_compressed_bytes=settings.MAX_UPLOAD_BYTES,
        max_inflated_bytes=settings.VCF_MAX_INFLATED_BYTES,
        max_ratio=settings.VCF_MAX_RATIO,
        max_line_bytes=settings.VCF_MAX_LINE_BYTES,
        max_header_lines=settings.VCF_MAX_HEADER_LINES,
        max_records=settings.VCF_MAX_RECORDS,
    )


def validate_variant_set(job: Job, progress: Progress) -> None:
    variant_set = VariantSet.objects.select_related("genome").get(validation_job=job)
    genome = variant_set.genome
    output = run_vcf_validation(
        variant_set.upload_path,
        genome.fasta_file,
        genome.contig_resolver(),
        vcf_limits(),
        job_dir(job),
        progress,
    )
    store_validation(job, variant_set, output)


def store_validation(job: Job, variant_set: VariantSet, output: ValidationOutput) -> None:
    """Save variants, counts and files, and finish the job, in one transaction.

    If this attempt lost the job meanwhile, ``finish`` returns False and everything rolls back,
    so a redelivered job never stores its variants twice.
    """
    report = output.report
    with transaction.atomic():
        variant_set.variants.all().delete()  # rows of an earlier, interrupted attempt
        _save_variants(variant_set, report.accepted)
        _save_counts(variant_set, report)
        record_artifact(
            job,
            output.normalized_vcf,
            content_type="application/gzip",
            description="Accepted variants: split, sorted, deduplicated (bgzip)",
        )
        record_artifact(
            job,
            output.normalized_vcf.with_name(output.normalized_vcf.name + ".tbi"),
            content_type="application/octet-stream",
            description="Tabix index",
        )
        record_artifact(
            job,
            output.issues_tsv,
            content_type="text/tab-separated-values",
            description="Every record not accepted, with its line and reason",
        )
        if not finish_job(job, report.counts(), variant_set.genome):
            transaction.set_rollback(True)


def _save_variants(variant_set: VariantSet, accepted: list) -> None:
    batch = []
    for index, variant in enumerate(accepted):
        batch.append(
            Variant(
                variant_set=variant_set,
                index=index,
                chrom=variant.chrom,
                start=variant.start,
                ref=variant.ref,
                alt=variant.alt,
                ident=variant.ident[:200],
                line=variant.line,
            )
        )
        if len(batch) == VARIANT_BATCH:
            Variant.objects.bulk_create(batch)
            batch = []
    Variant.objects.bulk_create(batch)


def _save_counts(variant_set: VariantSet, report) -> None:
    counts = report.counts()
    variant_set.records_read = report.records_read
    variant_set.accepted = counts["accepted"]
    variant_set.skipped = counts["skipped"]
    variant_set.rejected = counts["rejected"]
    variant_set.duplicates = report.duplicates
    variant_set.reasons = report.reasons()
    variant_set.contigs_renamed = report.contigs_renamed
    variant_set.warnings = report.warnings()
    variant_set.first_issues = [
        {"line": i.line, "status": i.status, "reason": i.reason, "detail": i.detail, "text": i.text}
        for i in report.issues[:REPORT_ISSUE_ROWS]
    ]
    variant_set.save()


def score_variant_set(job: Job, progress: Progress) -> None:
    """Score a variant set's alleles. Every input is read from the job row and the database,
    within the job's own workspace; nothing comes from the message.

    A set larger than ``GW_SCORING_PART_ALLELES`` runs as parts, one task each, which any
    worker may take; the job waits without holding a worker, and runs once more to join the
    parts' scores into the exports after the last part finished.
    """
    variant_set, predictor = _scoring_inputs(job)
    if job.parts.exists():
        join_scoring_parts(job, variant_set, predictor)
    elif variant_set.variants.count() > settings.SCORING_PART_ALLELES:
        split_scoring_job(job, variant_set, predictor)
    else:
        score_whole_set(job, variant_set, predictor, progress)


def _scoring_inputs(job: Job) -> tuple[VariantSet, Predictor]:
    params = job.params
    variant_set = (
        VariantSet.objects.select_related("genome")
        .filter(workspace=job.workspace, code=params["variant_set"])
        .first()
    )
    predictor = Predictor.objects.filter(name=params["model"]).select_related("genome").first()
    if variant_set is None or predictor is None:
        raise JobInputError("The variant set or the model of this job no longer exists.")
    return variant_set, predictor


def score_whole_set(
    job: Job, variant_set: VariantSet, predictor: Predictor, progress: Progress
) -> None:
    params = job.params
    model, tracks = _scoring_model(predictor, params, params["tracks"])
    rows = list(variant_set.variants.order_by("index"))
    output = run_variant_scoring(
        model,
        predictor.genome.fasta_file,
        [_as_genomics(v) for v in rows],
        scorers=params["scorers"],
        tracks=tracks,
        genes=_genes(predictor, params["genes"]),
        out_dir=job_dir(job),
        progress=progress,
        model_name=predictor.name,
    )
    used = _model_use(predictor, model, tracks)
    with transaction.atomic():
        _store_effects(job, rows, output.scored.scores, output.summary)
        _finish_scoring(job, predictor, output.scored, output.files, used)


def split_scoring_job(job: Job, variant_set: VariantSet, predictor: Predictor) -> None:
    """Create the parts (consecutive index ranges that never split a tile) and wait."""
    loci = list(variant_set.variants.order_by("index").values_list("chrom", "start"))
    step = window_step(predictor.output_bins, predictor.bin_size)
    ranges = part_ranges(loci, settings.SCORING_PART_ALLELES, step)
    parts = [
        Job(
            workspace=job.workspace,
            created_by=job.created_by,
            kind=JobKind.SCORE_VARIANTS_PART,
            parent=job,
            params={"part": number, "first": first, "stop": stop},
            progress_total=stop - first,
        )
        for number, (first, stop) in enumerate(ranges)
    ]
    with transaction.atomic():
        if not job.wait_for_parts(parts):
            transaction.set_rollback(True)
            return
        for part in job.parts.all():
            enqueue(part.pk)
    logger.info("job %s runs as %d parts", job.code, len(parts))


def score_variant_part(part: Job, progress: Progress) -> None:
    """One part of a large scoring job: its alleles' database rows, and its scores in a file
    for the step that joins the parts. Model, tracks and scorers come from the parent row."""
    job = part.parent
    variant_set, predictor = _scoring_inputs(job)
    params = job.params
    model, tracks = _scoring_model(predictor, params, params["tracks"])
    rows = list(
        variant_set.variants.filter(
            index__gte=part.params["first"], index__lt=part.params["stop"]
        ).order_by("index")
    )
    scored = score_alleles(
        model,
        predictor.genome.fasta_file,
        [_as_genomics(v) for v in rows],
        scorers=params["scorers"],
        tracks=tracks,
        genes=_genes(predictor, params["genes"]),
        progress=progress,
    )
    path = save_part(scored, job_dir(part) / PART_FILE)
    used = _model_use(predictor, model, tracks)
    with transaction.atomic():
        summary = summary_rows(scored.scores, params["tracks"])
        _store_effects(job, rows, scored.scores, summary, part)
        if not finish_job(part, {"alleles": len(rows), "file": path.name}, predictor.genome, used):
            transaction.set_rollback(True)
            return
        if part.part_finished():
            enqueue(job.pk)


def join_scoring_parts(job: Job, variant_set: VariantSet, predictor: Predictor) -> None:
    """All parts finished: join their scores into the exports and finish the job."""
    parts = list(job.parts.order_by("params__part"))
    if any(part.status != JobStatus.SUCCEEDED for part in parts):
        raise JobInputError("Some parts of this job did not finish.")
    rows = list(variant_set.variants.order_by("index"))
    scored = join_parts(
        [job_dir(part) / PART_FILE for part in parts],
        [_as_genomics(v) for v in rows],
        _genes(predictor, job.params["genes"]),
    )
    files = write_scoring_exports(
        scored.scores,
        job.params["tracks"],
        predictor.genome.fasta_file,
        job_dir(job),
        predictor.name,
    )
    used = provenance.joined_use([part.provenance for part in parts])
    with transaction.atomic():
        _finish_scoring(job, predictor, scored, files, used)


def _scoring_model(predictor: Predictor, params: dict, track_ids: list[str]):
    """The model with a scoring job's ensembling, and the indices of ``track_ids`` in it."""
    model = runtime.ensemble(
        predictor.spec(),
        reverse_complement=params["reverse_complement"],
        shifts=tuple(params["shifts"]),
        replicates=params["replicates"],
    )
    try:
        return model, model.tracks.indices(track_ids)
    except KeyError as error:
        raise JobInputError(f"The model no longer has these tracks: {error}") from error


def _as_genomics(row: Variant) -> GenomicVariant:
    return GenomicVariant(row.chrom, row.start, row.ref, row.alt, row.ident, row.line)


def _genes(predictor: Predictor, wanted: bool) -> list | None:
    if not wanted or not predictor.genome.annotation_path:
        return None
    return read_genes(resolve_data_path(predictor.genome.annotation_path))


def _store_effects(
    job: Job, rows: list[Variant], scores, summary: list[dict], part: Job | None = None
) -> None:
    """Summary and gene rows of ``rows``, the whole set or one ``part``'s index range,
    replacing those an interrupted attempt stored."""
    earlier = {"job": job}
    if part is not None:
        earlier["variant__index__gte"] = part.params["first"]
        earlier["variant__index__lt"] = part.params["stop"]
    VariantEffect.objects.filter(**earlier).delete()
    GeneEffect.objects.filter(**earlier).delete()
    VariantEffect.objects.bulk_create(
        (
            VariantEffect(job=job, variant=row, **values)
            for row, values in zip(rows, summary, strict=True)
        ),
        batch_size=VARIANT_BATCH,
    )
    GeneEffect.objects.bulk_create(_gene_effects(job, rows, scores), batch_size=VARIANT_BATCH)


def _finish_scoring(
    job: Job, predictor: Predictor, scored: ScoredAlleles, files: dict, used: dict
) -> None:
    """Record the exports and finish the job (inside the caller's transaction): rolled back
    when this attempt no longer owns the job, so results are stored once."""
    for path, content_type, description in files.values():
        record_artifact(job, path, content_type=content_type, description=description)
    summary = {
        "alleles": len(scored.scores.variants),
        "unscored": len(scored.scores.unscored),
        "passes_per_second": round(scored.passes_per_second, 2),
    }
    if not finish_job(job, summary, predictor.genome, used):
        transaction.set_rollback(True)
        return
    Predictor.objects.filter(pk=predictor.pk).update(
        measured_passes_per_second=scored.passes_per_second
    )


def _gene_effects(job: Job, rows: list[Variant], scores) -> list[GeneEffect]:
    gene_scores = scores.gene_scores
    track_ids = job.params["tracks"]
    positions = {index: i for i, index in enumerate(scores.tracks)}
    effects = []
    for v, g, t, sed, log_sed in zip(
        gene_scores.variant,
        gene_scores.gene,
        gene_scores.track,
        gene_scores.sed,
        gene_scores.log_sed,
        strict=True,
    ):
        gene = scores.genes[g]
        effects.append(
            GeneEffect(
                job=job,
                variant=rows[v],
                gene_id=gene.gene_id,
                gene_name=gene.name,
                track=track_ids[positions[int(t)]],
                sed=float(sed),
                log_sed=float(log_sed),
            )
        )
    return effects


def predict_variant_tracks(job: Job, progress: Progress) -> None:
    """bigWigs of predicted ref, alt and alt − ref around one scored variant, with the model
    and ensembling of the scoring job it belongs to."""
    scoring = Job.objects.filter(
        workspace=job.workspace, code=job.params["effects_job"], kind=JobKind.SCORE_VARIANTS
    ).first()
    effect = (
        VariantEffect.objects.filter(job=scoring, pk=job.params["effect"])
        .select_related("variant")
        .first()
        if scoring
        else None
    )
    predictor = Predictor.objects.filter(name=scoring.params["model"]).first() if scoring else None
    if effect is None or predictor is None:
        raise JobInputError("The scored variant or its model no longer exists.")
    model, tracks = _scoring_model(predictor, scoring.params, job.params["tracks"])
    progress(0, 1)
    interval, files = write_variant_tracks(
        model, predictor.genome.fasta_file, _as_genomics(effect.variant), tracks, job_dir(job)
    )
    with transaction.atomic():
        for path, description in files:
            record_artifact(
                job, path, content_type="application/octet-stream", description=description
            )
        summary = {
            "chrom": interval.chrom,
            "start": interval.start,
            "end": interval.end,
            "tracks": job.params["tracks"],
        }
        if not finish_job(job, summary, predictor.genome, _model_use(predictor, model, tracks)):
            transaction.set_rollback(True)


# --- interpretation ---------------------------------------------------------------------------


def run_ism_job(job: Job, progress: Progress) -> None:
    """ISM of the job's region, in a model window centred on it."""
    predictor, model, region = _interpretation_inputs(job)
    if len(region) > MAX_ISM_BP:
        raise JobInputError(f"ISM takes at most {MAX_ISM_BP:,} bp; this region has {len(region):,}")
    window = interpret.centred_window(model, region)
    objective = _objective(job, predictor, model, window)
    fasta, allele, matrices = predictor.genome.fasta_file, _allele(job), _motifs(predictor)
    output = run_ism(
        model, fasta, region, window, objective, job_dir(job), progress, allele, matrices
    )
    _finish_interpretation(job, output, predictor, _model_use(predictor, model, objective.tracks))


def run_saliency_job(job: Job, progress: Progress) -> None:
    """Gradient × input over a model window centred on the job's region."""
    predictor, model, region = _interpretation_inputs(job)
    window = interpret.centred_window(model, region)
    objective = _objective(job, predictor, model, window)
    progress(0, 1)
    fasta, allele, matrices = predictor.genome.fasta_file, _allele(job), _motifs(predictor)
    output = run_saliency(model, fasta, window, objective, job_dir(job), allele, matrices)
    _finish_interpretation(job, output, predictor, _model_use(predictor, model, objective.tracks))


def run_attention_job(job: Job, progress: Progress) -> None:
    """One transformer layer's attention over a model window centred on the job's region."""
    predictor, model, region = _interpretation_inputs(job)
    window = interpret.centred_window(model, region)
    genes = CatalogGene.objects.filter(
        genome=predictor.genome, chrom=window.chrom, end__gt=window.start, start__lt=window.end
    )
    progress(0, 1)
    try:
        output = run_attention(
            model,
            predictor.genome.fasta_file,
            window,
            job.params["layer"],
            job.params["head"],
            [gene.as_annotation() for gene in genes],
            job_dir(job),
            _allele(job),
        )
    except ValueError as error:  # a layer or head the model does not have
        raise JobInputError(str(error)) from error
    # An attention map is one pass of the first replicate, forward, reading no output track.
    single_pass = Ensemble(model.replicates[:1], reverse_complement=False)
    _finish_interpretation(job, output, predictor, _model_use(predictor, single_pass, []))


def _interpretation_inputs(job: Job):
    params = job.params
    predictor = Predictor.objects.filter(name=params["model"]).select_related("genome").first()
    if predictor is None:
        raise JobInputError("The model of this job no longer exists.")
    model = runtime.ensemble(predictor.spec(), reverse_complement=params["reverse_complement"])
    chrom, start, end = params["region"]
    return predictor, model, Interval(chrom, start, end)


def _motifs(predictor: Predictor) -> list:
    """JASPAR CORE matrices of the genome's taxon (all of CORE when the species is unknown)."""
    return load_matrices(tax_group_for_species(predictor.genome.species))


def _allele(job: Job) -> Allele | None:
    """The variant allele a job explains instead of the reference, read from the database
    (the variant must belong to the job's workspace)."""
    wanted = job.params.get("allele")
    if not wanted or wanted["side"] == "ref":
        return None
    variant = Variant.objects.filter(
        pk=wanted["variant"], variant_set__workspace=job.workspace
    ).first()
    if variant is None:
        raise JobInputError("The variant of this job no longer exists.")
    if len(variant.ref) != len(variant.alt):
        raise JobInputError(
            "Explaining an alternative allele needs a substitution (SNV or MNV); "
            f"{variant} changes the length."
        )
    return Allele(variant.start, variant.ref, variant.alt)


def _objective(job: Job, predictor: Predictor, model, window: Interval):
    """The job's objective: a gene (strand-matched tracks over its exons) or tracks."""
    wanted, log = job.params["objective"], job.params["log"]
    try:
        if wanted.get("gene"):
            row = CatalogGene.objects.filter(
                genome=predictor.genome, gene_id=wanted["gene"]
            ).first()
            if row is None:
                raise JobInputError(f"The gene {wanted['gene']} is not in this genome.")
            return interpret.gene_objective(model, window, row.as_annotation(), log=log)
        tracks = model.tracks.indices(wanted["tracks"])
        over = Interval(*wanted["over"]) if wanted.get("over") else None
        return interpret.track_objective(model, window, tracks, over, log=log)
    except (KeyError, ValueError) as error:
        raise JobInputError(str(error).strip("'\"")) from error


def _finish_interpretation(job: Job, output, predictor: Predictor, used: dict) -> None:
    with transaction.atomic():
        for path, content_type, description in output.files:
            record_artifact(job, path, content_type=content_type, description=description)
        if not finish_job(job, output.summary, predictor.genome, used):
            transaction.set_rollback(True)


# --- designs ----------------------------------------------------------------------------------


def predict_design_job(job: Job, progress: Progress) -> None:
    """Reference and edited predictions of one saved version of a design."""
    params = job.params
    design = (
        Design.objects.filter(workspace=job.workspace, code=params["design"])
        .select_related("predictor__genome")
        .first()
    )
    version = design.versions.filter(number=params["version"]).first() if design else None
    if version is None:
        raise JobInputError("The design, or this version of it, no longer exists.")
    predictor = design.predictor
    model = runtime.ensemble(predictor.spec(), reverse_complement=params["reverse_complement"])
    try:
        tracks = model.tracks.indices(params["tracks"])
    except KeyError as error:
        raise JobInputError(f"The model no longer has these tracks: {error}") from error
    edits = [Edit.from_dict(data) for data in version.edits]
    if len(design.window) != model.sequence_length:
        raise JobInputError("The design's window no longer matches its model's input length.")
    progress(0, 1)
    output = predict_design(
        model,
        predictor.genome.fasta_file,
        design.window,
        apply_edits(design.reference_sequence(), edits),
        max((edit.end for edit in edits), default=0),
        tracks,
        _genes(predictor, True) or [],
        job_dir(job),
    )
    _finish_interpretation(job, output, predictor, _model_use(predictor, model, tracks))


# --- bundles ----------------------------------------------------------------------------------

REPORT_TOP = 50  # variants in a scoring job's offline report, strongest first
OBSERVED, PREDICTED_REF, PREDICTED_ALT = "observed", "predicted reference", "predicted alternative"


def build_bundle(job: Job, progress: Progress) -> None:
    """One zip of a finished job: outputs, inputs, report, provenance and a README. Built once
    per contents: a second bundle of the same files links the first one's zip."""
    target = Job.objects.filter(
        workspace=job.workspace, code=job.params["job"], status=JobStatus.SUCCEEDED
    ).first()
    if target is None:
        raise JobInputError("The job to bundle no longer exists or has not succeeded.")
    out = job_dir(job)
    generated = _bundle_extras(target, out, job.params.get("report_top", REPORT_TOP), progress)
    entries = [_with_sha256(item) for item in job_entries(target, generated)]
    text = readme(f"genomeweb: {target.get_kind_display()}", _bundle_facts(target), entries)
    cached = settings.RESULTS_DIR / "bundles" / f"{contents_hash(entries, text)}.zip"
    if not cached.exists():
        write_bundle(entries, text, cached)
    bundle = _linked(cached, out / bundle_filename(target.kind, target.code))
    with transaction.atomic():
        description = f"Everything of this {target.get_kind_display().lower()} job, zipped"
        record_artifact(job, bundle, content_type="application/zip", description=description)
        summary = {"job": str(target.code), "files": len(entries) + 1, "contents": cached.stem}
        if not job.finish(summary):
            transaction.set_rollback(True)


def _with_sha256(item: Entry) -> Entry:
    """An input whose hash is unknown (an upload) gets it now: the cache key needs it."""
    if item.sha256:
        return item
    return Entry(item.name, item.path, sha256_file(item.path), item.size, item.description)


def _linked(cached: Path, link: Path) -> Path:
    """The cached zip under the job's own name, without a second copy."""
    link.unlink(missing_ok=True)
    try:
        os.link(cached, link)
    except OSError:  # another file system
        shutil.copyfile(cached, link)
    return link


def _bundle_facts(target: Job) -> list[tuple[str, str]]:
    params = target.params
    facts = [
        ("Job", str(target.code)),
        ("Finished", target.finished_at.isoformat() if target.finished_at else "—"),
    ]
    if "model" in params:
        facts.append(("Model", params["model"]))
    if "region" in params:
        facts.append(("Region", Interval(*params["region"]).readable()))
    facts.append(("Parameters, weights and genome hashes", "provenance.json"))
    return facts


def _bundle_extras(target: Job, out: Path, top: int, progress: Progress) -> list[Entry]:
    """Files made for the bundle: a scoring job's report of its top variants with the
    predicted tracks it shows; a design's sequences and report."""
    if target.kind == JobKind.SCORE_VARIANTS and top > 0:
        report = _variant_report(target, out, top, progress)
        return [report, *_report_tracks(out / "report")]
    if target.kind == JobKind.DESIGN_PREDICT:
        return _design_extras(target, out)
    return []


def _variant_report(target: Job, out: Path, top: int, progress: Progress) -> Entry:
    """The ``top`` strongest variants, each with its strongest track observed and predicted
    for both alleles."""
    predictor = Predictor.objects.filter(name=target.params["model"]).select_related("genome")
    predictor = predictor.first()
    if predictor is None:
        raise JobInputError("The model of this job no longer exists.")
    model, _ = _scoring_model(predictor, target.params, target.params["tracks"])
    observed = {
        track.identifier: track.observed.file
        for track in predictor.tracks.select_related("observed")
        if track.observed is not None
    }
    effects = (
        VariantEffect.objects.filter(job=target, max_abs__isnull=False)
        .select_related("variant")
        .order_by("-max_abs", "variant_id")[:top]
    )
    sites = []
    for number, effect in enumerate(effects):
        progress(number, len(effects))
        sites.append(_report_site(model, predictor, effect, observed, out / "report" / str(number)))
    scorers = target.params["scorers"]
    path = write_variant_report(
        out / "report.html",
        fasta=predictor.genome.fasta_file,
        sites=sites,
        tracks=[
            ReportTrack(OBSERVED, color="rgb(90,90,90)"),
            ReportTrack(PREDICTED_REF, color="rgb(31,111,235)", autoscale_group="predicted"),
            ReportTrack(PREDICTED_ALT, color="rgb(207,34,46)", autoscale_group="predicted"),
        ],
        columns=[*scorers, "track", "gene"],
        annotation=_annotation(predictor.genome),
        title=f"Top {len(sites)} variants, {predictor.name}",
        description=f"Strongest first by |{scorers[0]}|; each site shows its strongest track.",
    )
    return _generated(path, "", "Offline report of the strongest variants (open in a browser)")


def _report_tracks(folder: Path) -> list[Entry]:
    """The report's predicted bigWigs, as ``report_tracks/<rank>.<allele>.<track>.bw``."""
    tracks = []
    for path in sorted(folder.glob("*/*.bw"), key=lambda p: (int(p.parent.name), p.name)):
        label, _, rest = path.name.partition(".")
        if label == "delta":
            continue  # the report draws ref and alt; the difference is one subtraction away
        description = f"Variant {int(path.parent.name) + 1} of the report: predicted {label}"
        tracks.append(
            entry(
                "report_tracks",
                f"{int(path.parent.name) + 1:03d}.{label}.{rest}",
                path,
                sha256_file(path),
                path.stat().st_size,
                description,
            )
        )
    return tracks


def _report_site(model, predictor, effect: VariantEffect, observed: dict, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    variant = effect.variant
    tracks = model.tracks.indices([effect.top_track])
    write_variant_tracks(model, predictor.genome.fasta_file, _as_genomics(variant), tracks, folder)
    bigwigs = {
        PREDICTED_REF: folder / f"ref.{effect.top_track}.bw",
        PREDICTED_ALT: folder / f"alt.{effect.top_track}.bw",
    }
    if effect.top_track in observed:
        bigwigs[OBSERVED] = observed[effect.top_track]
    values = effect.scorer_max | {"track": effect.top_track, "gene": effect.top_gene_name}
    return ReportSite(
        variant.chrom,
        variant.start,
        variant.ref,
        variant.alt,
        variant.ident or str(variant),
        values=values,
        bigwigs=bigwigs,
    )


def _design_extras(target: Job, out: Path) -> list[Entry]:
    design = (
        Design.objects.filter(workspace=target.workspace, code=target.params["design"])
        .select_related("predictor__genome")
        .first()
    )
    version = design.versions.filter(number=target.params["version"]).first() if design else None
    if version is None:
        raise JobInputError("The design, or this version of it, no longer exists.")
    edits = [Edit.from_dict(data) for data in version.edits]
    reference = design.reference_sequence()
    fasta = out / "design.fa"
    fasta.write_text(
        f">reference {design.window.readable()}\n{reference}\n"
        f">edited version {version.number}, {len(edits)} edit(s)\n"
        f"{apply_edits(reference, edits)}\n"
    )
    files = {a.name: a.path for a in target.artifacts.all()}
    track = target.params["tracks"][0]
    report = write_design_report(
        out / "report.html",
        fasta=design.predictor.genome.fasta_file,
        window=design.window,
        edits=edits,
        tracks=[
            ReportTrack(PREDICTED_REF, color="rgb(31,111,235)", autoscale_group="predicted"),
            ReportTrack("predicted edited", color="rgb(207,34,46)", autoscale_group="predicted"),
        ],
        bigwigs={
            PREDICTED_REF: files[f"ref.{track}.bw"],
            "predicted edited": files[f"alt.{track}.bw"],
        },
        annotation=_annotation(design.predictor.genome),
        title=f"Design {design.name}, version {version.number}: {track}",
    )
    return [
        _generated(fasta, "inputs", "The reference window and the edited sequence (FASTA)"),
        _generated(report, "", "Offline report of the edits (open in a browser)"),
    ]


def _annotation(genome) -> Path | None:
    return resolve_data_path(genome.annotation_path) if genome.annotation_path else None


def _generated(path: Path, folder: str, description: str) -> Entry:
    return entry(folder, path.name, path, sha256_file(path), path.stat().st_size, description)


HANDLERS: dict[str, Callable[[Job, Progress], None]] = {
    JobKind.VALIDATE_VCF: validate_variant_set,
    JobKind.SCORE_VARIANTS: score_variant_set,
    JobKind.VARIANT_TRACKS: predict_variant_tracks,
    JobKind.SCORE_VARIANTS_PART: score_variant_part,
    JobKind.ISM: run_ism_job,
    JobKind.SALIENCY: run_saliency_job,
    JobKind.ATTENTION: run_attention_job,
    JobKind.DESIGN_PREDICT: predict_design_job,
    JobKind.BUNDLE: build_bundle,
}
