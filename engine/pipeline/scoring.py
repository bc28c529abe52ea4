"""The variant scoring job: alleles scored by the engine (whole, or as parts joined later) and
every export of the scores."""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.io.annotation import Gene
from engine.io.fasta import Genome
from engine.io.vcf import Variant
from engine.models.base import ModelAdapter
from engine.models.runtime import scoring_batch_size
from engine.pipeline.common import Progress
from engine.variants.effects import (
    VariantScores,
    default_window_step,
    score_variants,
    scores_from_arrays,
    scores_to_arrays,
)
from engine.variants.exports import (
    summarize,
    write_annotated_vcf,
    write_gene_tsv,
    write_scores_long_tsv,
    write_scores_npz,
    write_scores_wide_tsv,
)
from engine.variants.reuse import Reuse, merge
from engine.variants.windows import forward_passes, part_ranges

#: ``(scores, track_ids) -> scores`` with their ``Calibration`` (``calibrate_scores``, bound to
#: a model's background)
Calibrate = Callable[[VariantScores, list[str]], VariantScores]


@dataclass
class ScoredAlleles:
    scores: VariantScores
    passes: int  # forward passes it took (see engine.variants.windows.forward_passes)
    seconds: float
    reused: int = 0  # alleles whose stored scores were taken (engine.variants.reuse)
    #: alleles not reused because the stored scores hold other tracks or scorers
    kept_elsewhere: int = 0

    @property
    def passes_per_second(self) -> float:
        return self.passes / max(self.seconds, 1e-6)


@dataclass
class ScoringOutput:
    scored: ScoredAlleles
    summary: list[dict]  # one per allele, for the database rows
    files: dict[str, tuple[Path, str, str]]  # name -> (path, content type, description)


def score_alleles(
    model: ModelAdapter,
    fasta: Path,
    variants: list[Variant],
    *,
    scorers: list[str],
    tracks: list[int],
    genes: list[Gene] | None,
    progress: Progress | None = None,
    batch_size: int | None = None,
    window_step: int | None = None,
) -> ScoredAlleles:
    """Score alleles with the engine (``batch_size`` sequences per forward pass; None: the
    runtime's choice for the model's device), and time it. ``window_step`` 1 centres a window
    on each variant; None shares windows (the default)."""
    genome = Genome(fasta)
    try:
        began = time.monotonic()
        scores = score_variants(
            model,
            genome,
            variants,
            scorers=scorers,
            tracks=tracks,
            genes=genes,
            batch_size=batch_size or scoring_batch_size(model.device),
            progress=progress,
            window_step=window_step,
        )
        seconds = time.monotonic() - began
    finally:
        genome.close()
    passes = forward_passes(
        ((v.chrom, v.start, len(v.ref), len(v.alt)) for v in variants),
        window_step or default_window_step(model),
        per_pass=getattr(model, "passes_per_sequence", 1),
    )
    return ScoredAlleles(scores, passes, seconds)


def summary_rows(scores: VariantScores, track_ids: list[str]) -> list[dict]:
    """One summary dict per allele (strongest score and track, top gene, per-scorer maxima);
    ``track_ids`` name ``scores.tracks``, in order."""
    return summarize(scores, track_ids, scores.scorers[0])


def write_scoring_exports(
    scores: VariantScores, track_ids: list[str], fasta: Path, out_dir: Path, model_name: str
) -> dict[str, tuple[Path, str, str]]:
    """Every export (TSV long and wide, gene TSV, annotated VCF, npz) into ``out_dir``."""
    ids = track_ids
    genome = Genome(fasta)
    try:
        return _write_exports(scores, ids, genome.contig_lengths, out_dir, model_name)
    finally:
        genome.close()


def score_alleles_checkpointed(
    model: ModelAdapter,
    fasta: Path,
    variants: list[Variant],
    *,
    scorers: list[str],
    tracks: list[int],
    genes: list[Gene] | None,
    folder: Path,
    chunk_alleles: int,
    progress: Progress | None = None,
    starting: Callable[[str], object] | None = None,
    reuse: Reuse | None = None,
) -> ScoredAlleles:
    """``score_alleles`` in chunks of about ``chunk_alleles``, each saved in ``folder`` as soon
    as it is scored: a run that resumes after a crash loads the chunks it finds and scores
    only the rest, so a crash costs at most one chunk.

    Chunks are cut at tile boundaries (``part_ranges``), so every allele is scored with the
    same windows as in one go. ``starting`` hears which records a chunk holds before it is
    scored (a crash inside it can then be pinned on them).
    """
    if not variants:
        return score_alleles(model, fasta, variants, scorers=scorers, tracks=tracks, genes=genes)
    folder.mkdir(parents=True, exist_ok=True)
    ranges = part_ranges(
        [(v.chrom, v.start) for v in variants], chunk_alleles, default_window_step(model)
    )
    paths = [folder / f"chunk-{first}-{stop}.npz" for first, stop in ranges]
    total = len(variants)
    done = sum(
        stop - first for (first, stop), path in zip(ranges, paths, strict=True) if path.exists()
    )
    if progress is not None:
        progress(done, total)  # what earlier attempts saved: the bar starts there, not at 0
    for (first, stop), path in zip(ranges, paths, strict=True):
        if path.exists():  # save_part writes whole files only
            continue
        if starting is not None:
            starting(describe_records(variants, first, stop))
        scored = score_alleles_reusing(
            model,
            fasta,
            variants[first:stop],
            reuse,
            scorers=scorers,
            tracks=tracks,
            genes=genes,
            progress=_offset(progress, done, total),
        )
        save_part(scored, path)
        done += stop - first
        if progress is not None:
            progress(done, total)
    return join_parts(paths, variants, genes)


def score_alleles_reusing(
    model: ModelAdapter,
    fasta: Path,
    variants: list[Variant],
    reuse: Reuse | None,
    *,
    scorers: list[str],
    tracks: list[int],
    genes: list[Gene] | None,
    progress: Progress | None = None,
) -> ScoredAlleles:
    """``score_alleles`` of the alleles ``reuse`` has no stored scores for, joined with those
    it has (the stored alleles count as done at once); the newly scored ones are stored."""
    found, kept_elsewhere = reuse.find(variants) if reuse is not None else ({}, 0)
    missing = [i for i in range(len(variants)) if i not in found]
    scored = score_alleles(
        model,
        fasta,
        [variants[i] for i in missing],
        scorers=scorers,
        tracks=tracks,
        genes=genes,
        progress=_offset(progress, len(found), len(variants)),
    )
    if reuse is not None:
        reuse.keep([variants[i] for i in missing], scored.scores)
    if found:
        scored.scores = merge(variants, found, missing, scored.scores)
    scored.reused, scored.kept_elsewhere = len(found), kept_elsewhere
    return scored


def _offset(progress: Progress | None, done: int, total: int) -> Progress | None:
    """A chunk's progress as the whole run's."""
    if progress is None:
        return None
    return lambda chunk_done, _chunk_total: progress(done + chunk_done, total)


def describe_records(variants: list[Variant], first: int, stop: int) -> str:
    """``records 1,201-1,600 (II:12,345 C>T ... II:56,789 G>A)``, 1-based as in the VCF."""
    head, tail = variants[first], variants[stop - 1]
    return (
        f"records {first + 1:,}-{stop:,} ({head.chrom}:{head.start + 1:,} {head.ref}>{head.alt}"
        f" ... {tail.chrom}:{tail.start + 1:,} {tail.ref}>{tail.alt})"
    )


def export_scores(
    scored: ScoredAlleles,
    track_ids: list[str],
    fasta: Path,
    out_dir: Path,
    model_name: str,
    calibrate: Calibrate | None = None,
) -> ScoringOutput:
    """Every export of scored alleles into ``out_dir``, and their summary rows;
    ``calibrate`` (if any) adds percentiles against the model's background first."""
    if calibrate is not None:
        scored.scores = calibrate(scored.scores, track_ids)
    files = write_scoring_exports(scored.scores, track_ids, fasta, out_dir, model_name)
    return ScoringOutput(scored, summary_rows(scored.scores, track_ids), files)


def save_part(scored: ScoredAlleles, path: Path) -> Path:
    """One part's (or chunk's) scores and timing, for the step that joins them. Written under
    a temporary name and renamed, so the file is whole or absent, even after a crash."""
    timing = {
        "passes": np.int64(scored.passes),
        "seconds": np.float64(scored.seconds),
        "reused": np.int64(scored.reused),
        "kept_elsewhere": np.int64(scored.kept_elsewhere),
    }
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        np.savez(handle, **scores_to_arrays(scored.scores), **timing)
    os.replace(temporary, path)
    return path


def join_parts(
    paths: list[Path], variants: list[Variant], genes: list[Gene] | None
) -> ScoredAlleles:
    """The parts' scores (files from ``save_part``, in order) as one, with summed timing."""
    parts = []
    for path in paths:
        with np.load(path, allow_pickle=False) as arrays:
            parts.append(dict(arrays))
    scores = scores_from_arrays(parts, variants, genes or [])
    passes = sum(int(part["passes"]) for part in parts)
    seconds = sum(float(part["seconds"]) for part in parts)
    # files saved before prediction reuse hold no counts: nothing was reused then
    reused, elsewhere = (sum(int(p.get(n, 0)) for p in parts) for n in ("reused", "kept_elsewhere"))
    return ScoredAlleles(scores, passes, seconds, reused, elsewhere)


def _write_exports(scores, ids, contigs, out_dir: Path, model_name: str) -> dict:
    tsv = "text/tab-separated-values"
    files = {
        "scores.tsv": (
            write_scores_long_tsv(scores, ids, out_dir / "scores.tsv"),
            tsv,
            "One row per allele and track, a column per scorer",
        ),
        "scores_wide.tsv": (
            write_scores_wide_tsv(scores, ids, out_dir / "scores_wide.tsv"),
            tsv,
            "One row per allele, a column per scorer and track",
        ),
        "scores.npz": (
            write_scores_npz(scores, ids, out_dir / "scores.npz"),
            "application/octet-stream",
            "Allele × track × scorer matrices (numpy)",
        ),
        "annotated.vcf.gz": (
            write_annotated_vcf(
                scores, ids, contigs, out_dir / "annotated.vcf.gz", model_name=model_name
            ),
            "application/gzip",
            "Accepted alleles with scores in INFO (bgzip)",
        ),
    }
    files["annotated.vcf.gz.tbi"] = (
        out_dir / "annotated.vcf.gz.tbi",
        "application/octet-stream",
        "Tabix index",
    )
    files["scores.npy"] = (
        _save_npy(scores.scores, out_dir / "scores.npy"),
        "application/octet-stream",
        "The same allele × track × scorer matrix, uncompressed (memory-mappable)",
    )
    if scores.replicates > 1:
        files["spread.npy"] = (
            _save_npy(scores.spread, out_dir / "spread.npy"),
            "application/octet-stream",
            f"Standard deviation of each score over the {scores.replicates} model replicates, "
            "in the layout of scores.npy",
        )
    if scores.calibration is not None:
        files["percentile.npy"] = (
            _save_npy(scores.calibration.percentile, out_dir / "percentile.npy"),
            "application/octet-stream",
            "Percentile of each |score| among the model's background of random SNVs at a "
            "similar distance from a gene start (same track and scorer; provenance.json names "
            "the background), in the layout of scores.npy",
        )
    if scores.genes:
        files["genes.tsv"] = (
            write_gene_tsv(scores, ids, out_dir / "genes.tsv"),
            tsv,
            "Gene-level SED and logSED per allele, gene and track",
        )
    return files


def _save_npy(array: np.ndarray, path: Path) -> Path:
    """Uncompressed so a page can read one allele's row without loading the whole matrix."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        np.save(handle, array)
    os.replace(temporary, path)
    return path
