"""One function per job kind: plain inputs in (paths, limits), files and plain results out.

Nothing here touches Django or Celery, so every step can be tested without a database.
"""

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genomeweb.genomics.annotation import Gene
from genomeweb.genomics.bigwig import write_bigwig
from genomeweb.genomics.contigs import ContigResolver
from genomeweb.genomics.encoding import one_hot, one_hot_batch
from genomeweb.genomics.fasta import Genome
from genomeweb.genomics.intervals import Interval
from genomeweb.genomics.motif_scan import (
    MotifMatch,
    PositionWeightMatrix,
    label_segments,
    write_bed,
)
from genomeweb.genomics.vcf import (
    Variant,
    VcfFileError,
    VcfLimits,
    VcfReport,
    validate_vcf,
    write_issues_tsv,
    write_normalized_vcf,
)
from genomeweb.lib.ism import FOCUSED_ISM_BP, mean_substitution_effect
from genomeweb.lib.windows import forward_passes
from worker.adapters.base import ModelAdapter
from worker.errors import JobInputError
from worker.exports import (
    summarize,
    write_annotated_vcf,
    write_gene_tsv,
    write_scores_long_tsv,
    write_scores_npz,
    write_scores_wide_tsv,
)
from worker.figures import attention_png, attention_svg, ism_figure
from worker.interpret import Objective, attention_map, ism, peak_window, saliency
from worker.runtime import autocast
from worker.scoring import exon_bins, gene_scores, score_all, strand_mask
from worker.variant_effects import (
    VariantScores,
    allele_profiles,
    default_window_step,
    score_variants,
    scores_from_arrays,
    scores_to_arrays,
)

Progress = Callable[[int, int], None]


@dataclass
class ValidationOutput:
    report: VcfReport
    normalized_vcf: Path
    issues_tsv: Path


def run_vcf_validation(
    upload: Path,
    fasta: Path,
    resolver: ContigResolver,
    limits: VcfLimits,
    out_dir: Path,
    progress: Progress,
) -> ValidationOutput:
    """Validate an uploaded VCF against a genome and write the normalised VCF and issue list.

    Returns:
        The report plus ``normalized.vcf.gz`` (bgzip + .tbi) and ``issues.tsv`` in ``out_dir``.

    Raises:
        JobInputError: the file as a whole is unusable; the message says why.
    """
    genome = Genome(fasta)
    try:
        report = validate_vcf(upload, genome, limits=limits, resolver=resolver, progress=progress)
        normalized = write_normalized_vcf(report, genome, out_dir / "normalized.vcf.gz")
    except VcfFileError as error:
        raise JobInputError(str(error)) from error
    finally:
        genome.close()
    issues = out_dir / "issues.tsv"
    write_issues_tsv(report, issues)
    return ValidationOutput(report=report, normalized_vcf=normalized, issues_tsv=issues)


@dataclass
class ScoredAlleles:
    scores: VariantScores
    passes: int  # forward passes it took (see genomeweb.lib.windows.forward_passes)
    seconds: float

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
    progress: Progress,
) -> ScoredAlleles:
    """Score alleles with the engine, and time it."""
    genome = Genome(fasta)
    try:
        began = time.monotonic()
        scores = score_variants(
            model, genome, variants, scorers=scorers, tracks=tracks, genes=genes, progress=progress
        )
        seconds = time.monotonic() - began
    finally:
        genome.close()
    passes = forward_passes(
        ((v.chrom, v.start, len(v.ref), len(v.alt)) for v in variants),
        default_window_step(model),
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


def run_variant_scoring(
    model: ModelAdapter,
    fasta: Path,
    variants: list[Variant],
    *,
    scorers: list[str],
    tracks: list[int],
    genes: list[Gene] | None,
    out_dir: Path,
    progress: Progress,
    model_name: str,
) -> ScoringOutput:
    """Score alleles and write every export into ``out_dir``, in one go (small jobs)."""
    scored = score_alleles(
        model, fasta, variants, scorers=scorers, tracks=tracks, genes=genes, progress=progress
    )
    ids = [model.tracks.tracks[i].identifier for i in tracks]
    files = write_scoring_exports(scored.scores, ids, fasta, out_dir, model_name)
    return ScoringOutput(scored, summary_rows(scored.scores, ids), files)


def save_part(scored: ScoredAlleles, path: Path) -> Path:
    """One part's scores and timing, for the step that joins the parts."""
    timing = {"passes": np.int64(scored.passes), "seconds": np.float64(scored.seconds)}
    with path.open("wb") as handle:
        np.savez(handle, **scores_to_arrays(scored.scores), **timing)
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
    return ScoredAlleles(scores, passes, sum(float(part["seconds"]) for part in parts))


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
    if scores.genes:
        files["genes.tsv"] = (
            write_gene_tsv(scores, ids, out_dir / "genes.tsv"),
            tsv,
            "Gene-level SED and logSED per allele, gene and track",
        )
    return files


def write_variant_tracks(
    model: ModelAdapter, fasta: Path, variant: Variant, tracks: list[int], out_dir: Path
) -> tuple[Interval, list[tuple[Path, str]]]:
    """Predicted reference, alternative and alt − ref coverage around one variant, as bigWigs
    (one of each per track) on the genome's bin grid, for the genome browser.

    Returns:
        The predicted interval and ``(path, description)`` for every file written.
    """
    genome = Genome(fasta)
    try:
        start = (variant.start - model.sequence_length // 2) // model.bin_size * model.bin_size
        with torch.inference_mode(), autocast(model.device):
            ref, alt = allele_profiles(model, genome, variant, tracks, start)
        ref, alt = ref[0].float().cpu().numpy(), alt[0].float().cpu().numpy()  # (bins, T)
        first = start + model.crop_bp
        interval = Interval(variant.chrom, first, first + ref.shape[0] * model.bin_size)
        files = []
        for column, index in enumerate(tracks):
            ident = model.tracks.tracks[index].identifier
            for label, values in (("ref", ref), ("alt", alt), ("delta", alt - ref)):
                path = out_dir / f"{label}.{ident}.bw"
                write_bigwig(
                    path,
                    genome.contig_lengths,
                    [(interval, values[:, column])],
                    bin_size=model.bin_size,
                )
                files.append((path, f"Predicted {TRACK_LABELS[label]}, {ident}"))
    finally:
        genome.close()
    return interval, files


TRACK_LABELS = {
    "ref": "reference allele",
    "alt": "alternative allele",
    "delta": "alternative − reference",
}


def _save_npy(array: np.ndarray, path: Path) -> Path:
    """Uncompressed so a page can read one allele's row without loading the whole matrix."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        np.save(handle, array)
    os.replace(temporary, path)
    return path


# --- interpretation ---------------------------------------------------------------------------

TOP_POSITIONS = 10
# An ISM stretch is chosen because it matters: much of it is signal, so its own median and MAD
# overstate the noise that ``important_segments`` measures against (8 MADs suits a saliency map
# over a whole window). At 2.5, HIS3's promoter gives its TATA stretch and CCAAT box.
ISM_NOISE_MADS = 2.5


@dataclass
class InterpretationOutput:
    files: list[tuple[Path, str, str]]  # (path, content type, description)
    summary: dict


@dataclass(frozen=True)
class Allele:
    """A same-length substitution (SNV or MNV) to explain instead of the reference: its
    0-based ``start``, the reference bases it replaces and its own bases."""

    start: int
    ref: str
    alt: str

    @property
    def end(self) -> int:
        return self.start + len(self.ref)


def _window_sequence(
    fasta: Path, window: Interval, allele: Allele | None = None
) -> tuple[str, dict[str, int]]:
    """The window's reference sequence, with ``allele`` in place when one is given."""
    genome = Genome(fasta)
    try:
        sequence, contigs = genome.fetch(window), dict(genome.contig_lengths)
    finally:
        genome.close()
    if allele is None:
        return sequence, contigs
    first = allele.start - window.start
    if first < 0 or allele.end > window.end:
        raise JobInputError("The variant is not inside the model window.")
    if sequence[first : first + len(allele.ref)] != allele.ref.upper():
        raise JobInputError(
            f"REF {allele.ref} does not match the genome at {window.chrom}:{allele.start + 1}."
        )
    return sequence[:first] + allele.alt.upper() + sequence[first + len(allele.ref) :], contigs


def run_ism(
    model: ModelAdapter,
    fasta: Path,
    region: Interval,
    window: Interval,
    objective: Objective,
    out_dir: Path,
    progress: Progress,
    allele: Allele | None = None,
    motif_matrices: Sequence[PositionWeightMatrix] = (),
) -> InterpretationOutput:
    """Every substitution of ``region`` inside ``window`` (carrying ``allele`` if given).

    Writes ``ism.npz`` (the ``(L, 4)`` matrix and its context), ``ism_mean.bw`` (the mean
    effect of a position's substitutions), ``motifs.bed`` (the ``motif_matrices`` that best
    match the important stretches) and the paper figure ``ism.svg`` / ``ism.png``.
    """
    sequence, contigs = _window_sequence(fasta, window, allele)
    first = region.start - window.start
    result = ism(model, one_hot(sequence), objective, first, first + len(region), progress=progress)
    stretch = sequence[first : first + len(region)]
    npz = out_dir / "ism.npz"
    np.savez(
        npz,
        effects=result.effects,
        reference=np.array(list(stretch)),
        chrom=region.chrom,
        start=region.start,
        end=region.end,
        window_start=window.start,
        objective=objective.description,
        reference_objective=result.reference,
        tracks=np.array([model.tracks.tracks[t].identifier for t in objective.tracks]),
    )
    mean = out_dir / "ism_mean.bw"
    mean_effect = mean_substitution_effect(result.effects, stretch)
    write_bigwig(mean, contigs, [(region, mean_effect)], bin_size=1)
    motifs = label_segments(
        stretch, -mean_effect, motif_matrices, offset=region.start, noise_mads=ISM_NOISE_MADS
    )
    title = f"{model.name}: ISM of {region.readable()}{_carrying(allele)}, {objective.description}"
    drawn = ism_figure(result.effects, stretch, region, title, motifs)
    figure = _write_figure(out_dir / "ism", drawn)
    summary = {
        "objective": objective.description,
        "reference_objective": result.reference,
        "region": [region.chrom, region.start, region.end],
        "mutants": result.forward_passes,
        "strongest": _strongest_mutations(result.effects, stretch, region),
        "motifs": _motif_rows(motifs),
    }
    files = [
        (npz, "application/octet-stream", "ISM matrix (L × 4, alt − ref objective) and context"),
        (mean, "application/octet-stream", "Mean effect of the three substitutions per base"),
        (figure[0], "image/svg+xml", "Figure: importance logo over the substitution heatmap"),
        (figure[1], "image/png", "The same figure as PNG (200 dpi)"),
        _motif_file(motifs, region.chrom, out_dir),
    ]
    return InterpretationOutput(files, summary)


def _motif_rows(motifs: Sequence[MotifMatch]) -> list[dict]:
    """For the page and igv.js: 0-based half-open, as everywhere inside."""
    return [
        {
            "label": match.label,
            "start": match.start,
            "end": match.end,
            "strand": match.strand,
            "bits": round(match.score, 2),
            "relative": round(match.relative_score, 3),
        }
        for match in motifs
    ]


def _motif_file(motifs: Sequence[MotifMatch], chrom: str, out_dir: Path) -> tuple:
    bed = write_bed(motifs, chrom, out_dir / "motifs.bed")
    return bed, "text/plain", "JASPAR motifs best matching the important stretches (BED6)"


def _carrying(allele: Allele | None) -> str:
    return "" if allele is None else f" carrying {allele.ref}>{allele.alt} at {allele.start + 1:,}"


def _write_figure(stem: Path, figure: tuple[str, bytes]) -> tuple[Path, Path]:
    svg, png = stem.with_suffix(".svg"), stem.with_suffix(".png")
    svg.write_text(figure[0])
    png.write_bytes(figure[1])
    return svg, png


def _strongest_mutations(effects: np.ndarray, stretch: str, region: Interval) -> list[dict]:
    """The substitutions that lower the objective most (1-based positions, for people)."""
    order = np.argsort(effects, axis=None)[:TOP_POSITIONS]
    rows = []
    for flat in order:
        offset, base = divmod(int(flat), 4)
        rows.append(
            {
                "position": region.start + offset + 1,
                "ref": stretch[offset],
                "alt": "ACGT"[base],
                "effect": float(effects[offset, base]),
            }
        )
    return rows


def run_saliency(
    model: ModelAdapter,
    fasta: Path,
    window: Interval,
    objective: Objective,
    out_dir: Path,
    allele: Allele | None = None,
    motif_matrices: Sequence[PositionWeightMatrix] = (),
) -> InterpretationOutput:
    """Gradient × input over ``window`` (carrying ``allele`` if given); writes
    ``saliency.npz``, ``saliency.bw`` and ``motifs.bed`` (the best matches to the important
    stretches), and proposes the focused-ISM stretch (192 bp on the smoothed peak)."""
    sequence, contigs = _window_sequence(fasta, window, allele)
    result = saliency(model, one_hot(sequence), objective)
    first, last = peak_window(result.contribution, FOCUSED_ISM_BP)
    motifs = label_segments(sequence, result.contribution, motif_matrices, offset=window.start)
    npz = out_dir / "saliency.npz"
    np.savez(
        npz,
        gradient=result.gradient,
        contribution=result.contribution,
        chrom=window.chrom,
        window_start=window.start,
        objective=objective.description,
        objective_value=result.objective,
    )
    bigwig = out_dir / "saliency.bw"
    write_bigwig(bigwig, contigs, [(window, result.contribution)], bin_size=1)
    summary = {
        "objective": objective.description,
        "objective_value": result.objective,
        "window": [window.chrom, window.start, window.end],
        "focused_ism": [window.chrom, window.start + first, window.start + last],
        "motifs": _motif_rows(motifs),
    }
    files = [
        (npz, "application/octet-stream", "Gradient (L × 4, centred) and gradient × input"),
        (bigwig, "application/octet-stream", "Gradient × input per base"),
        _motif_file(motifs, window.chrom, out_dir),
    ]
    return InterpretationOutput(files, summary)


# --- designs ----------------------------------------------------------------------------------

DESIGN_SCORES = ("REF", "ALT", "SUM", "logSED")
TOP_GENES = 20


def fit_to_window(genome: Genome, window: Interval, edited: str, *, right: bool) -> str:
    """An edited window sequence at the model's input length ``len(window)``.

    Left-anchored (``right=False``): the sequence before the edits keeps its place; a longer
    sequence loses its right end, a shorter one continues with the genome after the window.
    Right-anchored: the mirror image, so the sequence after the edits keeps its place. (The
    variant engine's rule for indels, see worker.variant_effects.)
    """
    change = len(edited) - len(window)
    if change >= 0:
        return edited[change:] if right else edited[: len(window)]
    if right:
        return genome.fetch(Interval(window.chrom, window.start + change, window.start)) + edited
    return edited + genome.fetch(Interval(window.chrom, window.end, window.end - change))


def predict_design(
    model: ModelAdapter,
    fasta: Path,
    window: Interval,
    edited: str,
    last_edit_end: int,
    tracks: list[int],
    genes: list[Gene],
    out_dir: Path,
) -> InterpretationOutput:
    """Reference and edited predictions of a design's window, as bigWigs on genome coordinates,
    with per-track and per-gene changes.

    When the edits change the length, output bins left of the last edit come from the
    left-anchored prediction and the others from the right-anchored one, so every bin away from
    the edits compares the same genome sequence (``last_edit_end``: window position, reference
    coordinates).
    """
    genome = Genome(fasta)
    try:
        texts = [genome.fetch(window), fit_to_window(genome, window, edited, right=False)]
        if len(edited) != len(window):
            texts.append(fit_to_window(genome, window, edited, right=True))
        contigs = dict(genome.contig_lengths)
    finally:
        genome.close()
    with torch.inference_mode(), autocast(model.device):
        pred = model.predict(torch.from_numpy(one_hot_batch(texts)).to(model.device), tracks)
    pred = pred.float()
    ref, alt = pred[:1], pred[1:2].clone()
    if len(texts) == 3:
        cut = -(-(last_edit_end - model.crop_bp) // model.bin_size)  # first bin past the edits
        alt[:, max(cut, 0) :] = pred[2:3, max(cut, 0) :]
    first = window.start + model.crop_bp
    output = Interval(window.chrom, first, first + model.output_bins * model.bin_size)
    ids = [model.tracks.tracks[i].identifier for i in tracks]
    files = _coverage_files(
        ref[0].cpu().numpy(), alt[0].cpu().numpy(), ids, output, contigs, out_dir, model.bin_size
    )
    summary = {
        "interval": [output.chrom, output.start, output.end],
        "tracks": ids,
        "length_change": len(edited) - len(window),
        "track_scores": _track_rows(ref, alt, ids),
        "gene_scores": _gene_rows(model, ref, alt, tracks, genes, output),
    }
    return InterpretationOutput(files, summary)


def _coverage_files(ref, alt, ids, output, contigs, out_dir: Path, bin_size: int) -> list:
    files = []
    for column, ident in enumerate(ids):
        for label, values in (("ref", ref), ("alt", alt), ("delta", alt - ref)):
            path = out_dir / f"{label}.{ident}.bw"
            write_bigwig(path, contigs, [(output, values[:, column])], bin_size=bin_size)
            files.append(
                (path, "application/octet-stream", f"Predicted {DESIGN_LABELS[label]}, {ident}")
            )
    return files


DESIGN_LABELS = {"ref": "reference", "alt": "edited design", "delta": "edited − reference"}


def _track_rows(ref, alt, ids) -> list[dict]:
    values = score_all(ref, alt, DESIGN_SCORES)[0].cpu().numpy()  # (T, 4)
    return [
        {"track": ident, **{name: float(v) for name, v in zip(DESIGN_SCORES, row, strict=True)}}
        for ident, row in zip(ids, values, strict=True)
    ]


def _gene_rows(model, ref, alt, tracks, genes, output: Interval) -> list[dict]:
    """SED and logSED of each gene with exon bins in the output, on strand-matched tracks; the
    ``TOP_GENES`` largest |logSED| first."""
    nearby = [
        g
        for g in genes
        if g.chrom == output.chrom and g.end > output.start and g.start < output.end
    ]
    if not nearby:
        return []
    bins = exon_bins(nearby, output, model.bin_size)
    strands = strand_mask(nearby, [model.tracks.tracks[t] for t in tracks])
    device = ref.device
    sed, log_sed = gene_scores(
        ref,
        alt,
        torch.as_tensor(bins, device=device)[None],
        torch.as_tensor(strands, device=device),
    )
    sed, log_sed = sed[0].cpu().numpy(), log_sed[0].cpu().numpy()  # (G, T)
    rows = [
        {
            "gene": gene.name or gene.gene_id,
            "gene_id": gene.gene_id,
            "track": model.tracks.tracks[t].identifier,
            "sed": float(sed[g, column]),
            "log_sed": float(log_sed[g, column]),
        }
        for g, gene in enumerate(nearby)
        if bins[g].any()
        for column, t in enumerate(tracks)
        if strands[g, column]
    ]
    return sorted(rows, key=lambda row: -abs(row["log_sed"]))[:TOP_GENES]


def run_attention(
    model: ModelAdapter,
    fasta: Path,
    window: Interval,
    layer: int,
    head: int | None,
    genes: list[Gene],
    out_dir: Path,
    allele: Allele | None = None,
) -> InterpretationOutput:
    """One layer's attention over ``window`` (carrying ``allele`` if given): ``attention.npz``
    (the N × N map) and ``attention.svg`` (the heatmap with coordinates and genes)."""
    sequence, _ = _window_sequence(fasta, window, allele)
    result = attention_map(model, one_hot(sequence), layer, head)
    tokens = len(result.weights)
    npz = out_dir / "attention.npz"
    dtype = np.float16 if tokens > 1024 else np.float32  # Borzoi's 4,096² map: 32 MB
    np.savez(
        npz,
        weights=result.weights.astype(dtype),
        chrom=window.chrom,
        window_start=window.start,
        window_end=window.end,
        token_bp=result.token_bp,
    )
    which = "mean of heads" if head is None else f"head {head + 1}"
    title = f"{model.name}: layer {layer + 1}, {which}, {window.readable()}{_carrying(allele)}"
    svg, png = out_dir / "attention.svg", out_dir / "attention.png"
    svg.write_text(attention_svg(result.weights, window, genes, title))
    png.write_bytes(attention_png(result.weights, window, genes, title))
    summary = {
        "window": [window.chrom, window.start, window.end],
        "layer": layer,
        "head": head,
        "heads": result.heads,
        "tokens": tokens,
        "token_bp": result.token_bp,
        "title": title,
    }
    files = [
        (npz, "application/octet-stream", "Attention weights (tokens × tokens; rows: queries)"),
        (svg, "image/svg+xml", "Attention heatmap with coordinates and genes (SVG)"),
        (png, "image/png", "The same heatmap as a figure (PNG, 200 dpi)"),
    ]
    return InterpretationOutput(files, summary)
