"""Bundle jobs: one zip of a finished job (outputs, inputs, an offline report, provenance,
a README), built once per contents: a second bundle of the same files links the first one's zip."""

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from engine.designs.edits import Edit, apply_edits
from engine.errors import InputError
from engine.io.bigwig import COVERAGE_UNIT
from engine.io.bundles import (
    Entry,
    bundle_filename,
    contents_hash,
    entry,
    readme,
    write_bundle,
)
from engine.io.files import sha256_file
from engine.io.igv_files import SessionTrack, write_igv_session, write_top_hits_bed
from engine.io.intervals import Interval
from engine.pipeline.common import Progress
from engine.pipeline.report import (
    ReportSite,
    ReportTrack,
    write_design_report,
    write_variant_report,
)
from engine.pipeline.tracks import write_variant_tracks
from genomeweb.catalog.models import Predictor, resolve_data_path
from genomeweb.designs.models import Design
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.results.contents import job_entries
from genomeweb.results.storage import job_dir, record_artifact
from genomeweb.variants.hits import bed_hits
from genomeweb.variants.models import (
    VariantEffect,
)
from worker.jobs.scoring import as_engine_variant, scoring_model

REPORT_TOP = 50  # variants in a scoring job's offline report, strongest first

# Observed and predicted bigWigs both hold reads per base (the predictions' bins ÷ their width,
# engine.pipeline.tracks.per_base): the names say so, and each report's tracks share one axis.
OBSERVED = f"observed ({COVERAGE_UNIT})"
PREDICTED_REF = f"predicted reference ({COVERAGE_UNIT})"
PREDICTED_ALT = f"predicted alternative ({COVERAGE_UNIT})"
PREDICTED_EDITED = f"predicted edited ({COVERAGE_UNIT})"
PREDICTED_DELTA = f"predicted alternative − reference ({COVERAGE_UNIT})"
PERCENTILE = "percentile"
NOISE = "placement noise"
TOP_HITS_BED = 1_000  # alleles in a scoring bundle's top_hits.bed, strongest first
COLORS = {"ref": "31,111,235", "alt": "207,34,46", "delta": "130,60,160"}


def build_bundle(job: Job, progress: Progress) -> None:
    """One zip of a finished job: outputs, inputs, report, provenance and a README. Built once
    per contents: a second bundle of the same files links the first one's zip."""
    target = Job.objects.filter(
        workspace=job.workspace, code=job.params["job"], status=JobStatus.SUCCEEDED
    ).first()
    if target is None:
        raise InputError("The job to bundle no longer exists or has not succeeded.")
    out = job_dir(job)
    generated = _bundle_extras(target, out, job.params.get("report_top", REPORT_TOP), progress)
    entries = job_entries(target, generated, fetch=True)
    if target.kind == JobKind.SCORE_VARIANTS:
        entries = [*entries, *_igv_files(target, entries, out)]
    missing = [item.name for item in entries if not item.path.is_file()]
    if missing:
        raise InputError(f"Files of this job are no longer on disk: {', '.join(missing[:5])}")
    entries = [_with_sha256(item) for item in entries]
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
        return [report, *_report_tracks(out / "report")] if report else []
    if target.kind == JobKind.DESIGN_PREDICT:
        return _design_extras(target, out)
    return []


def _variant_report(target: Job, out: Path, top: int, progress: Progress) -> Entry | None:
    """The ``top`` strongest variants, each with its strongest track observed and predicted
    for both alleles."""
    predictor = Predictor.objects.filter(name=target.params["model"]).select_related("genome")
    predictor = predictor.first()
    if predictor is None:
        raise InputError("The model of this job no longer exists.")
    model, _ = scoring_model(predictor, target.params, target.params["tracks"])
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
    if not effects:
        return None  # every allele was rejected: nothing to review
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
            ReportTrack(OBSERVED, color="rgb(90,90,90)", autoscale_group="coverage"),
            ReportTrack(PREDICTED_REF, color="rgb(31,111,235)", autoscale_group="coverage"),
            ReportTrack(PREDICTED_ALT, color="rgb(207,34,46)", autoscale_group="coverage"),
            # its own scale: a difference is small beside coverage, and may be negative
            ReportTrack(PREDICTED_DELTA, color="rgb(130,60,160)"),
        ],
        columns=[*scorers, PERCENTILE, NOISE, "track", "gene"],  # all at the row's track
        annotation=_annotation(predictor.genome),
        title=f"Top {len(sites)} variants, {predictor.name}",
        description=(
            f"Strongest first by |{scorers[0]}|; each row's scores are all at its track, the "
            f"track of largest |{scorers[0]}|, which its site shows. {PERCENTILE}: the share of "
            "random SNVs at a similar distance from a gene start whose |score| on that track is "
            f"at most this one's; {NOISE}: |{scorers[0]}| beyond or within what moving the "
            "model's window alone does (blank: the model had no score background)."
        ),
    )
    return _generated(path, "", "Offline report of the strongest variants (open in a browser)")


def _report_tracks(folder: Path) -> list[Entry]:
    """The report's predicted bigWigs, as ``report_tracks/<rank>.<allele>.<track>.bw``."""
    tracks = []
    for path in sorted(folder.glob("*/*.bw"), key=lambda p: (int(p.parent.name), p.name)):
        label, _, rest = path.name.partition(".")
        description = (
            f"Variant {int(path.parent.name) + 1} of the report: predicted {label} "
            f"({COVERAGE_UNIT})"
        )
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
    write_variant_tracks(
        model, predictor.genome.fasta_file, as_engine_variant(variant), tracks, folder
    )
    bigwigs = {
        PREDICTED_REF: folder / f"ref.{effect.top_track}.bw",
        PREDICTED_ALT: folder / f"alt.{effect.top_track}.bw",
        PREDICTED_DELTA: folder / f"delta.{effect.top_track}.bw",
    }
    if effect.top_track in observed:
        bigwigs[OBSERVED] = observed[effect.top_track]
    values = _row_scores(effect) | {
        PERCENTILE: effect.primary_pct,
        NOISE: {True: "beyond", False: "within"}.get(effect.beyond_noise),
        "track": effect.top_track,
        "gene": effect.top_gene_name,
    }
    return ReportSite(
        variant.chrom,
        variant.start,
        variant.ref,
        variant.alt,
        variant.ident or str(variant),
        values=values,
        bigwigs=bigwigs,
    )


def _row_scores(effect: VariantEffect) -> dict:
    """Every scorer at the row's one track (rows stored before those values were kept show
    only the primary score, which is at that track, rather than maxima from other tracks)."""
    if effect.top_track_scores:
        return effect.top_track_scores
    primary = next(iter(effect.scorer_max), None)
    return {primary: effect.primary} if primary else {}


def _igv_files(target: Job, entries: list[Entry], out: Path) -> list[Entry]:
    """``top_hits.bed`` (the strongest alleles) and ``igv_session.xml``, which opens the
    annotated VCF, the BED and the report's predicted tracks in IGV desktop from the unzipped
    bundle."""
    effects = VariantEffect.objects.filter(job=target, max_abs__isnull=False)
    hits = bed_hits(effects.order_by("-max_abs", "variant_id")[:TOP_HITS_BED])
    model = target.params["model"]
    bed = write_top_hits_bed(
        hits,
        out / "top_hits.bed",
        description=f"strongest {len(hits)} alleles by |{target.params['scorers'][0]}|, {model}",
    )
    bed_entry = _generated(bed, "", f"The {len(hits)} strongest alleles as BED (0-based)")
    predictor = Predictor.objects.filter(name=model).select_related("genome").first()
    genome = predictor.genome.name if predictor else ""
    tracks = [SessionTrack(bed_entry.name, "top hits")]
    tracks += [SessionTrack(e.name, "scored alleles") for e in entries if _is_annotated_vcf(e)]
    tracks += [_session_track(e) for e in entries if e.name.startswith("report_tracks/")]
    first = hits[0] if hits else None
    locus = f"{first.chrom}:{max(1, first.start - 499)}-{first.end + 500}" if first else "All"
    session = write_igv_session(out / "igv_session.xml", genome=genome, locus=locus, tracks=tracks)
    how = f"IGV desktop session (File > Open Session), genome {genome}: the VCF, BED and tracks"
    return [bed_entry, _generated(session, "", how)]


def _is_annotated_vcf(item: Entry) -> bool:
    return item.name.startswith("outputs/") and item.name.endswith("annotated.vcf.gz")


def _session_track(item: Entry) -> SessionTrack:
    """``report_tracks/001.alt.<track>.bw`` → "1 alt <track>", coloured as the report's."""
    number, label, rest = Path(item.name).name.split(".", 2)
    track = rest.removesuffix(".bw")
    return SessionTrack(item.name, f"{int(number)} {label} {track}", COLORS.get(label, ""))


def _design_extras(target: Job, out: Path) -> list[Entry]:
    design = (
        Design.objects.filter(workspace=target.workspace, code=target.params["design"])
        .select_related("predictor__genome")
        .first()
    )
    version = design.versions.filter(number=target.params["version"]).first() if design else None
    if version is None:
        raise InputError("The design, or this version of it, no longer exists.")
    edits = [Edit.from_dict(data) for data in version.edits]
    reference = design.reference_sequence()
    fasta = out / "design.fa"
    fasta.write_text(
        f">reference {design.window.readable()}\n{reference}\n"
        f">edited version {version.number}, {len(edits)} edit(s)\n"
        f"{apply_edits(reference, edits)}\n"
    )
    sequences = _generated(fasta, "inputs", "The reference window and the edited sequence (FASTA)")
    if not edits:
        return [sequences]  # the reference itself: no edit to review
    files = {a.name: a.path for a in target.artifacts.all()}
    track = target.params["tracks"][0]
    report = write_design_report(
        out / "report.html",
        fasta=design.predictor.genome.fasta_file,
        window=design.window,
        edits=edits,
        tracks=[
            ReportTrack(PREDICTED_REF, color="rgb(31,111,235)", autoscale_group="predicted"),
            ReportTrack(PREDICTED_EDITED, color="rgb(207,34,46)", autoscale_group="predicted"),
        ],
        bigwigs={
            PREDICTED_REF: files[f"ref.{track}.bw"],
            PREDICTED_EDITED: files[f"alt.{track}.bw"],
        },
        annotation=_annotation(design.predictor.genome),
        title=f"Design {design.name}, version {version.number}: {track}",
    )
    return [sequences, _generated(report, "", "Offline report of the edits (open in a browser)")]


def _annotation(genome) -> Path | None:
    return resolve_data_path(genome.annotation_path) if genome.annotation_path else None


def _generated(path: Path, folder: str, description: str) -> Entry:
    return entry(folder, path.name, path, sha256_file(path), path.stat().st_size, description)
