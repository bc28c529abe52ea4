"""Variant-effect scoring jobs (whole, or in parts joined at the end) and the predicted
tracks around one scored variant."""

import logging
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from engine.errors import InputError
from engine.io.annotation import read_genes
from engine.io.vcf import Variant as GenomicVariant
from engine.models import runtime
from engine.pipeline.common import Progress
from engine.pipeline.scoring import (
    ScoredAlleles,
    export_scores,
    join_parts,
    save_part,
    score_alleles_checkpointed,
    summary_rows,
    write_scoring_exports,
)
from engine.pipeline.tracks import write_variant_tracks
from engine.variants.windows import part_ranges, window_step
from genomeweb.catalog.models import Predictor, resolve_data_path
from genomeweb.jobs.enqueue import enqueue
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.lib.copy import analyze_if_stale, copy_rows
from genomeweb.results.storage import job_dir, record_artifact
from genomeweb.variants.models import (
    GeneEffect,
    Variant,
    VariantEffect,
    VariantSet,
)
from genomeweb.variants.submit import estimate_pass_cost
from worker import provenance
from worker.jobs.calibration import score_calibrator, with_background
from worker.jobs.finishing import finish_job, model_use
from worker.jobs.reuse import score_store
from worker.jobs.vcf import VARIANT_BATCH

logger = logging.getLogger(__name__)

PART_FILE = "part_scores.npz"
PART_ABOUT = "This part's scores, which the job's last step joins with the other parts'"
CHECKPOINTS = "checkpoints"  # a folder of scored chunks, while the job runs
# Parts shrink towards a job's end (part_ranges' ``least``) down to a tenth of the part size,
# never below this: a part's fixed cost (inputs, genes, storing, the artifact) is a second or
# two, and jobs of a few parts keep parts of the size asked for.
SMALLEST_GUIDED_PART = 1000


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
        raise InputError("The variant set or the model of this job no longer exists.")
    return variant_set, predictor


def score_whole_set(
    job: Job, variant_set: VariantSet, predictor: Predictor, progress: Progress
) -> None:
    params = job.params
    model, tracks = scoring_model(predictor, params, params["tracks"])
    calibrator = score_calibrator(predictor)
    rows = list(variant_set.variants.order_by("index"))
    scored = _score_with_checkpoints(job, params, predictor, model, tracks, rows, progress)
    output = export_scores(
        scored,
        params["tracks"],
        predictor.genome.fasta_file,
        job_dir(job),
        predictor.name,
        calibrate=calibrator.calibrate if calibrator else None,
    )
    used = with_background(model_use(predictor, model, tracks), calibrator)
    with transaction.atomic():
        _store_effects(job, rows, output.scored.scores, output.summary)
        cost = estimate_pass_cost(variant_set, predictor, params)
        _finish_scoring(job, predictor, output.scored, output.files, used, cost)


def _score_with_checkpoints(
    job: Job,
    params: dict,
    predictor: Predictor,
    model,
    tracks: list[int],
    rows: list[Variant],
    progress: Progress,
) -> ScoredAlleles:
    """Score ``rows`` with the scoring ``params`` in checkpointed chunks in the folder of
    ``job`` (a whole job or a part): an attempt that takes over after a crash resumes from the
    last chunk saved. The chunks go once the job succeeds. Each chunk takes the scores of
    alleles scored before with the same model weights, genome and settings from the
    server-wide store, and stores those it scores (``worker.jobs.reuse``)."""
    folder = job_dir(job) / CHECKPOINTS
    genes = model_genes(predictor, params["genes"])
    scored = score_alleles_checkpointed(
        model,
        predictor.genome.fasta_file,
        [as_engine_variant(v) for v in rows],
        scorers=params["scorers"],
        tracks=tracks,
        genes=genes,
        folder=folder,
        chunk_alleles=settings.SCORING_CHECKPOINT_ALLELES,
        progress=progress,
        starting=job.set_working_on,
        reuse=score_store(predictor, params, model, genes),
    )
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
    return scored


def split_scoring_job(job: Job, variant_set: VariantSet, predictor: Predictor) -> None:
    """Create the parts (consecutive index ranges that never split a tile) and wait."""
    loci = list(variant_set.variants.order_by("index").values_list("chrom", "start"))
    step = window_step(predictor.output_bins, predictor.bin_size)
    most = settings.SCORING_PART_ALLELES
    ranges = part_ranges(loci, most, step, least=max(most // 10, SMALLEST_GUIDED_PART))
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
        # in order: the queue is first in, first out, and the largest parts come first
        for part in job.parts.order_by("params__part"):
            enqueue(part.pk)
    logger.info("job %s runs as %d parts", job.code, len(parts))


def score_variant_part(part: Job, progress: Progress) -> None:
    """One part of a large scoring job: its alleles' database rows, and its scores in a file
    for the step that joins the parts. Model, tracks and scorers come from the parent row."""
    job = part.parent
    variant_set, predictor = _scoring_inputs(job)
    params = job.params
    model, tracks = scoring_model(predictor, params, params["tracks"])
    calibrator = score_calibrator(predictor)  # a bad background fails before the scoring
    rows = list(
        variant_set.variants.filter(
            index__gte=part.params["first"], index__lt=part.params["stop"]
        ).order_by("index")
    )
    scored = _score_with_checkpoints(part, params, predictor, model, tracks, rows, progress)
    path = save_part(scored, job_dir(part) / PART_FILE)
    # The step that joins the parts may run on another host: on object storage the part's
    # scores must be there, and only a recorded file is.
    record_artifact(part, path, content_type="application/octet-stream", description=PART_ABOUT)
    used = with_background(model_use(predictor, model, tracks), calibrator)
    if calibrator:
        scored.scores = calibrator.calibrate(scored.scores, params["tracks"])
    with transaction.atomic():
        summary = summary_rows(scored.scores, params["tracks"])
        _store_effects(job, rows, scored.scores, summary)
        done = {"alleles": len(rows), "file": path.name, **reuse_summary(scored)}
        if not finish_job(part, done, predictor.genome, used):
            transaction.set_rollback(True)
            return
        if part.part_finished():
            enqueue(job.pk)


def join_scoring_parts(job: Job, variant_set: VariantSet, predictor: Predictor) -> None:
    """All parts finished: join their scores into the exports and finish the job."""
    parts = list(job.parts.order_by("params__part"))
    if any(part.status != JobStatus.SUCCEEDED for part in parts):
        raise InputError("Some parts of this job did not finish.")
    scored = join_parts(
        [_part_file(part) for part in parts],
        engine_variants(variant_set),
        model_genes(predictor, job.params["genes"]),
    )
    used = provenance.joined_use([part.provenance for part in parts])
    background = (used["model"] or {}).get("background")
    if background:  # the one the parts used, even if a newer one was built since
        calibrator = score_calibrator(predictor, background["code"])
        scored.scores = calibrator.calibrate(scored.scores, job.params["tracks"])
    files = write_scoring_exports(
        scored.scores,
        job.params["tracks"],
        predictor.genome.fasta_file,
        job_dir(job),
        predictor.name,
    )
    with transaction.atomic():
        _finish_scoring(job, predictor, scored, files, used)


def _part_file(part: Job) -> Path:
    """A finished part's scores on this host (fetched from object storage when they were
    saved on another); a part stored before parts recorded them has them in its folder."""
    artifact = part.artifacts.filter(name=PART_FILE).first()
    return artifact.path if artifact else job_dir(part) / PART_FILE


def scoring_model(predictor: Predictor, params: dict, track_ids: list[str]):
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
        raise InputError(f"The model no longer has these tracks: {error}") from error


def engine_variants(variant_set: VariantSet) -> list[GenomicVariant]:
    """The set's alleles in ``index`` order, as the engine takes them: made from plain rows,
    not model instances, which for a 260k-allele join took ~1.5 kB each."""
    fields = ("chrom", "start", "ref", "alt", "ident", "line")
    rows = variant_set.variants.order_by("index").values_list(*fields)
    return [GenomicVariant(*values) for values in rows.iterator(chunk_size=10_000)]


def as_engine_variant(row: Variant) -> GenomicVariant:
    return GenomicVariant(row.chrom, row.start, row.ref, row.alt, row.ident, row.line)


def model_genes(predictor: Predictor, wanted: bool) -> list | None:
    if not wanted or not predictor.genome.annotation_path:
        return None
    return read_genes(resolve_data_path(predictor.genome.annotation_path))


def _store_effects(job: Job, rows: list[Variant], scores, summary: list[dict]) -> None:
    """Summary and gene rows of ``rows``, the whole set or one ``part``'s index range. On
    PostgreSQL with COPY: ~21 gene rows per allele through ``bulk_create`` were the largest
    cost of a cheap model's part (1.9 ms per allele, bench/bench_260k.py).

    Called in the transaction that finishes the job or part, so no earlier attempt can have
    left rows: one that stored them also finished, and a finished job is never run again.
    (Deleting such rows first scanned every row the job had so far, once per part: with
    statistics from before the job, PostgreSQL read a 260k-allele job's gene rows 22 times.)
    A duplicate would break the (job, variant) unique constraint and roll the whole back."""
    # every column but the id; COPY fills no Django default, so the summary's are laid on the
    # model's defaults (once, not per row)
    effect_fields = [
        field.name for field in VariantEffect._meta.concrete_fields if not field.primary_key
    ]
    defaults = {name: VariantEffect._meta.get_field(name).get_default() for name in effect_fields}
    effects = (
        _in_order({**defaults, "job": job.pk, "variant": row.pk, **values}, effect_fields)
        for row, values in zip(rows, summary, strict=True)
    )
    genes = _gene_effects(job, rows, scores)
    if connection.vendor == "postgresql":
        copy_rows(VariantEffect, effect_fields, effects)
        copy_rows(GeneEffect, GENE_EFFECT_FIELDS, genes)
        transaction.on_commit(lambda: analyze_if_stale(VariantEffect, GeneEffect))
        return
    VariantEffect.objects.bulk_create(
        _instances(VariantEffect, effect_fields, effects), batch_size=VARIANT_BATCH
    )
    GeneEffect.objects.bulk_create(
        _instances(GeneEffect, GENE_EFFECT_FIELDS, genes), batch_size=VARIANT_BATCH
    )


def _in_order(values: dict, fields: list[str]) -> list:
    return [values[name] for name in fields]


def _instances(model, fields, rows) -> Iterator:
    """``model`` instances of rows of values in ``fields`` order (foreign keys as ids)."""
    attnames = [model._meta.get_field(name).attname for name in fields]
    return (model(**dict(zip(attnames, values, strict=True))) for values in rows)


def _finish_scoring(
    job: Job,
    predictor: Predictor,
    scored: ScoredAlleles,
    files: dict,
    used: dict,
    pass_cost: float | None = None,
) -> None:
    """Record the exports and finish the job (inside the caller's transaction): rolled back
    when this attempt no longer owns the job, so results are stored once."""
    for path, content_type, description in files.values():
        record_artifact(job, path, content_type=content_type, description=description)
    summary = {
        "alleles": len(scored.scores.variants),
        "unscored": len(scored.scores.unscored),
        "passes": scored.passes,
        **reuse_summary(scored),
    }
    if not scored.reused:
        # What the cost estimate before launch is fitted to (genomeweb/jobs/costs.py). A job
        # that reused alleles leaves the fit: the estimate counts every allele's passes.
        summary |= {
            "cost_passes": round(pass_cost if pass_cost is not None else scored.passes, 2),
            "scoring_seconds": round(scored.seconds, 3),
            "passes_per_second": round(scored.passes_per_second, 2),
        }
    if not finish_job(job, summary, predictor.genome, used):
        transaction.set_rollback(True)


def reuse_summary(scored: ScoredAlleles) -> dict:
    """How many alleles took stored scores, and how many were stored only with other tracks
    or scorers (the job page says why those were scored again)."""
    summary = {"reused": scored.reused}
    if scored.kept_elsewhere:
        summary["kept_elsewhere"] = scored.kept_elsewhere
    return summary


GENE_EFFECT_FIELDS = (
    "job",
    "variant",
    "gene_id",
    "gene_name",
    "track",
    "sed",
    "log_sed",
    "log_sed_spread",
)


def _gene_effects(job: Job, rows: list[Variant], scores) -> Iterator[tuple]:
    """GeneEffect values in ``GENE_EFFECT_FIELDS`` order."""
    gene_scores = scores.gene_scores
    track_ids = job.params["tracks"]
    positions = {index: i for i, index in enumerate(scores.tracks)}
    for v, g, t, sed, log_sed, spread in zip(
        gene_scores.variant.tolist(),
        gene_scores.gene.tolist(),
        gene_scores.track.tolist(),
        gene_scores.sed.tolist(),
        gene_scores.log_sed.tolist(),
        gene_scores.log_sed_spread.tolist(),
        strict=True,
    ):
        gene = scores.genes[g]
        yield (
            job.pk,
            rows[v].pk,
            gene.gene_id,
            gene.name,
            track_ids[positions[t]],
            sed,
            log_sed,
            None if math.isnan(spread) else spread,
        )


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
        raise InputError("The scored variant or its model no longer exists.")
    model, tracks = scoring_model(predictor, scoring.params, job.params["tracks"])
    progress(0, 1)
    interval, files = write_variant_tracks(
        model, predictor.genome.fasta_file, as_engine_variant(effect.variant), tracks, job_dir(job)
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
        if not finish_job(job, summary, predictor.genome, model_use(predictor, model, tracks)):
            transaction.set_rollback(True)
