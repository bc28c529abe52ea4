"""Files and database summaries of variant effect scores (``effects.VariantScores``).

Every writer takes the scores, ``track_ids`` (the identifier of each scored track, in the order
of ``VariantScores.tracks``: ``T`` strings) and a path, writes atomically (a temp folder next to
the path, then ``os.replace``) and returns the path:

- ``write_scores_long_tsv``: one row per (scored allele, track), a column per scorer; the
  format of ``manage.py score_variants``.
- ``write_scores_wide_tsv``: one row per allele, a column per (scorer, track).
- ``write_gene_tsv``: one row per (allele, gene, strand-matched track): SED and logSED.
- ``write_annotated_vcf``: bgzip VCF + tabix index, each allele's strongest effects as INFO.
- ``write_scores_npz``: every array, for numpy (no pickles).

``summarize`` gives the per-allele values the web app stores for sorting and filtering.

All values are on the untransformed predicted counts (MODEL_NOTES, "Calico's variant scores").
Positions in files are 1-based (VCF POS); ``Variant.start`` is 0-based. Framework-free: numpy,
pysam and ``engine.io`` only (no Django, no torch).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import itertools
import math
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pysam

from engine.io.files import replace_durably
from engine.io.vcf import write_bgzip
from engine.io.vcf_text import FIXED_COLUMNS

if TYPE_CHECKING:  # engine.variants.effects imports torch
    from engine.variants.effects import VariantScores

__all__ = [
    "summarize",
    "write_annotated_vcf",
    "write_gene_tsv",
    "write_scores_long_tsv",
    "write_scores_npz",
    "write_scores_wide_tsv",
]

LOCUS_COLUMNS = ("chrom", "pos", "ref", "alt", "id")
NPZ_MAX_TEXT_BYTES = 1 << 30  # one text array of write_scores_npz, in memory and in the file
INFO_PREFIX = "GW_"
# Characters with a meaning in an INFO column, percent-encoded in INFO strings (VCF 4.3 §1.2).
_INFO_ESCAPES = str.maketrans(
    {"%": "%25", ";": "%3B", "=": "%3D", ",": "%2C", " ": "%20", "\t": "%09", "\n": "%0A"}
)
# What each scorer is (engine.variants.scorers has the definitions; importing it imports torch).
_SCORER_MEANINGS = {
    "SUM": "sum(A) - sum(R) over bins",
    "logSUM": "sum(log2(A + c)) - sum(log2(R + c)) over bins",
    "logSED": "log2(sum(A) + c) - log2(sum(R) + c) over bins",
    "D1": "L1 norm of A - R over bins",
    "D2": "L2 norm of A - R over bins",
    "logD1": "L1 norm of log2(A + c) - log2(R + c) over bins",
    "logD2": "L2 norm of log2(A + c) - log2(R + c) over bins",
    "SAX": "signed A - R at the bin of largest |A - R|",
    "JS": "symmetrised KL divergence of the R and A profiles over bins",
}


# --- TSV --------------------------------------------------------------------------------------


def write_scores_long_tsv(scores: VariantScores, track_ids: Sequence[str], path: Path) -> Path:
    """One row per (scored allele, track): the ``manage.py score_variants`` format.

    Columns: chrom, pos (1-based), ref, alt, id, track, one per scorer (``scores.scorers``),
    ref_sum, alt_sum, and for a model of several replicates ``<scorer>_sd`` for each scorer
    (the replicates' standard deviation; the scorer's column is their mean); numbers with 6
    significant digits. Unscored alleles have no rows.

    Args:
        scores: ``(V, T, S)`` scores, ``(V, T)`` sums.
        track_ids: ``T`` track identifiers.
        path: the TSV to write (its folder is created).

    Returns:
        ``path``.
    """
    _check_tracks(scores, track_ids)
    return _write_tsv(Path(path), _long_rows(scores, track_ids))


def write_scores_wide_tsv(scores: VariantScores, track_ids: Sequence[str], path: Path) -> Path:
    """One row per allele, unscored ones included, with a column per (scorer, track).

    Wide by design: after chrom, pos (1-based), ref, alt, id come ``<scorer>:<track>`` for every
    scorer then every track (scorer-major), then ``ref_sum:<track>`` and ``alt_sum:<track>``,
    so the table grows as ``(S + 2) × T`` columns (9 scorers on 7,611 Borzoi tracks: 83,721).
    Use the long TSV or the npz for many tracks. nan (an unscored allele) is an empty cell.

    Args:
        scores: ``(V, T, S)`` scores, ``(V, T)`` sums.
        track_ids: ``T`` track identifiers.
        path: the TSV to write (its folder is created).

    Returns:
        ``path``.
    """
    _check_tracks(scores, track_ids)
    return _write_tsv(Path(path), _wide_rows(scores, track_ids))


def write_gene_tsv(scores: VariantScores, track_ids: Sequence[str], path: Path) -> Path:
    """One row per gene score: the ``<out>.genes.tsv`` of ``manage.py score_variants``.

    Columns: chrom, pos (1-based), ref, alt, id, gene_id, gene_name, track, SED, logSED, and
    for a model of several replicates logSED_sd (their standard deviation); rows in the order
    of ``scores.gene_scores`` (variant, gene, track).

    Args:
        scores: scores whose ``gene_scores`` has ``(N,)`` arrays.
        track_ids: ``T`` track identifiers, matching ``scores.tracks``.
        path: the TSV to write (its folder is created).

    Returns:
        ``path``.
    """
    _check_tracks(scores, track_ids)
    return _write_tsv(Path(path), _gene_rows(scores, track_ids))


def _long_rows(scores: VariantScores, track_ids: Sequence[str]) -> Iterator[str]:
    """A row per (allele, track); with a calibration, ``<scorer>_pct`` beside each scorer and
    ``beyond_noise`` (the scorers whose ``|score|`` passes the placement noise) last."""
    calibration = scores.calibration
    spreads = [f"{name}_sd" for name in scores.scorers] if scores.replicates > 1 else []
    named = [[name, f"{name}_pct"] if calibration else [name] for name in scores.scorers]
    noise = ["beyond_noise"] if calibration else []
    yield _tsv_line(
        [*LOCUS_COLUMNS, "track", *itertools.chain(*named), "ref_sum", "alt_sum", *spreads, *noise]
    )
    tracks = [_tsv_line([identifier], end="\t") for identifier in track_ids]
    unscored = set(scores.unscored)
    for index, variant in enumerate(scores.variants):
        if index in unscored:
            continue
        locus = _tsv_line(_locus(variant), end="\t")
        values = scores.scores[index]  # (T, S)
        if calibration:  # scorer, its percentile, next scorer, …
            paired = np.stack([values, calibration.percentile[index]], axis=2)
            values = paired.reshape(len(values), -1)
        sums = [scores.ref_sum[index, :, None], scores.alt_sum[index, :, None]]
        values = np.concatenate([values, *sums, *([scores.spread[index]] if spreads else [])], 1)
        flags = _beyond_noise_names(scores, index) if calibration else None
        numbers = _numbers_format(values.shape[1])
        for t, (track, row) in enumerate(zip(tracks, values.tolist(), strict=True)):
            flag = f"\t{flags[t]}" if flags else ""  # scorer names: nothing to quote
            yield f"{locus}{track}{numbers % tuple(row)}{flag}\n"


def _beyond_noise_names(scores: VariantScores, index: int) -> list[str]:
    """Per track, the scorers (comma-separated) whose |score| passes the placement noise."""
    flags = scores.calibration.beyond_noise[index]  # (T, S)
    return [",".join(n for n, f in zip(scores.scorers, row, strict=True) if f) for row in flags]


def _wide_rows(scores: VariantScores, track_ids: Sequence[str]) -> Iterator[str]:
    calibration = scores.calibration
    percentiles = [f"{name}_pct" for name in scores.scorers] if calibration else []
    names = [*scores.scorers, *percentiles, "ref_sum", "alt_sum"]
    yield _tsv_line([*LOCUS_COLUMNS, *(f"{n}:{track}" for n in names for track in track_ids)])
    for index, variant in enumerate(scores.variants):
        values = _with_sums(scores, index)  # (T, S + 2)
        if calibration:
            values = np.insert(values, [len(scores.scorers)], calibration.percentile[index], 1)
        values = values.T.ravel().tolist()  # (columns × T,) scorer-major
        # nan (unscored) is an empty cell; "nan" can only be a whole cell among numbers
        numbers = (_numbers_format(len(values)) % tuple(values)).replace("nan", "")
        locus = _tsv_line(_locus(variant), end="\t")
        yield f"{locus}{numbers}\n"


def _gene_rows(scores: VariantScores, track_ids: Sequence[str]) -> Iterator[str]:
    spread = scores.replicates > 1
    header = [*LOCUS_COLUMNS, "gene_id", "gene_name", "track", "SED", "logSED"]
    yield _tsv_line(header + ["logSED_sd"] * spread)
    found = scores.gene_scores
    columns = _track_columns(scores, found.track)
    tracks = [_tsv_line([identifier], end="\t") for identifier in track_ids]
    numbers = _numbers_format(2 + spread)
    genes: dict[int, str] = {}  # gene index -> its quoted id and name
    locus_of = (-1, "")  # rows come allele by allele: the last allele's quoted locus
    for index, g, column, sed, log_sed, log_sed_sd in _rows_in_blocks(
        found.variant, found.gene, columns, found.sed, found.log_sed, found.log_sed_spread
    ):
        if g not in genes:
            genes[g] = _tsv_line([scores.genes[g].gene_id, scores.genes[g].name], end="\t")
        if index != locus_of[0]:
            locus_of = (index, _tsv_line(_locus(scores.variants[index]), end="\t"))
        values = (sed, log_sed, log_sed_sd) if spread else (sed, log_sed)
        yield f"{locus_of[1]}{genes[g]}{tracks[column]}{numbers % values}\n"


def _rows_in_blocks(*columns: np.ndarray, block: int = 100_000) -> Iterator[tuple]:
    """The columns' rows as Python tuples, converted a block at a time: whole columns as
    lists held 5.6 million Python numbers each (1.2 GB for a 260k-allele job's genes)."""
    for first in range(0, len(columns[0]), block):
        yield from zip(*(column[first : first + block].tolist() for column in columns), strict=True)


def _write_tsv(path: Path, lines: Iterable[str]) -> Path:
    with _staged(path) as staged, staged.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(lines)
    return path


def _tsv_line(fields: Sequence, end: str = "\n") -> str:
    """Fields as the csv module writes a TSV row (quoted where they need it), then ``end``."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t", lineterminator=end).writerow(fields)
    return buffer.getvalue()


@functools.cache
def _numbers_format(count: int) -> str:
    """A %-format of ``count`` tab-separated numbers, 6 significant digits (``_number``): one
    formatting call per row instead of one per number, a third of a 260k job's export time."""
    return "\t".join(["%.6g"] * count)


# --- annotated VCF ----------------------------------------------------------------------------


def write_annotated_vcf(
    scores: VariantScores,
    track_ids: Sequence[str],
    genome_contigs: dict[str, int],
    path: Path,
    *,
    model_name: str,
) -> Path:
    """The alleles as a bgzip VCF with a tabix index (``<path>.tbi``), one record each.

    INFO of a scored allele, for each scorer ``s``: ``GW_<s>``, the signed score at the track
    of largest ``|score|`` (nan tracks ignored; absent when all are nan), and ``GW_<s>_TRACK``,
    that track's identifier; ``GW_REF_SUM`` and ``GW_ALT_SUM`` at the first scorer's track;
    with gene scores, ``GW_TOP_GENE`` (the gene of largest ``|logSED|`` over the allele's
    gene rows) and ``GW_TOP_GENE_logSED``. Strings are percent-encoded (``%``, ``;``, ``=``,
    ``,``, whitespace). Unscored alleles get INFO ``.``. The header has ``##source``,
    ``##genomeweb_model``, a ``##contig`` per genome contig and an ``##INFO`` per field.

    Args:
        scores: ``(V, T, S)`` scores and ``(V, T)`` sums, written in the order given.
        track_ids: ``T`` track identifiers.
        genome_contigs: contig name → length, in the genome's order.
        path: where to write; must end with ``.vcf.gz``.
        model_name: the model, named in the header.

    Returns:
        ``path``.

    Raises:
        ValueError: a bad path or model name, a contig missing from ``genome_contigs``, or
            alleles not sorted by contig (genome order) and position, as tabix needs.
    """
    path = Path(path)
    if not path.name.endswith(".vcf.gz"):
        raise ValueError(f"{path} must end with .vcf.gz")
    _check_tracks(scores, track_ids)
    _check_model_name(model_name)
    _check_sorted(scores, genome_contigs)
    header = _vcf_header(scores, len(track_ids), genome_contigs, model_name)
    with _staged(path, ".tbi") as staged:
        write_bgzip(staged, itertools.chain(header, _vcf_records(scores, track_ids)))
        pysam.tabix_index(str(staged), preset="vcf", force=True)
    return path


def _vcf_header(
    scores: VariantScores, tracks: int, contigs: dict[str, int], model: str
) -> list[str]:
    lines = ["##fileformat=VCFv4.2", "##source=genomeweb", f"##genomeweb_model={model}"]
    lines += [f"##contig=<ID={name},length={length}>" for name, length in contigs.items()]
    lines += [
        f"##INFO=<ID={key},Number={0 if kind == 'Flag' else 1},Type={kind},"
        f'Description="{_header_text(text)}">'
        for key, kind, text in _info_fields(scores, tracks, model)
    ]
    lines.append("#" + "\t".join(FIXED_COLUMNS))
    return [line + "\n" for line in lines]


def _info_fields(scores: VariantScores, tracks: int, model: str) -> list[tuple[str, str, str]]:
    """``(key, type, description)`` of every INFO field the file may use."""
    counts = f"model {model}, untransformed predicted counts"
    over = f"max |value| over {tracks} tracks"
    fields = []
    for name in scores.scorers:
        key, meaning = INFO_PREFIX + name, _SCORER_MEANINGS.get(name, "variant effect score")
        if "+ c" in meaning:
            meaning += f", pseudocount c = {scores.pseudocount}"
        text = f"{name} ({meaning}; {counts}): the signed value at the track of {over}"
        fields.append((key, "Float", f"{text}, named in {key}_TRACK"))
        if scores.replicates > 1:
            text = f"Standard deviation of {key} over the {scores.replicates} model replicates"
            fields.append((f"{key}_SD", "Float", f"{text} (their mean is {key})"))
        text = f"Identifier (percent-encoded) of the track of {key}, the {over} of {name}"
        fields.append((f"{key}_TRACK", "String", f"{text} ({counts})"))
        if scores.calibration:
            text = (
                f"Percentile (0-100) of |{key}| among random SNVs at a similar distance from "
                f"a gene start, same track and scorer ({scores.calibration.background})"
            )
            fields.append((f"{key}_PCT", "Float", text))
            text = (
                f"|{key}| is above the placement noise of {name} on its track (95th "
                "percentile of the change a window shift alone makes to random SNVs)"
            )
            fields.append((f"{key}_BEYOND_NOISE", "Flag", text))
    if scores.scorers:
        where = f"at the track in {INFO_PREFIX}{scores.scorers[0]}_TRACK"
        for allele in ("REF", "ALT"):
            text = f"Sum over the window's bins of the {allele} prediction ({counts}) {where}"
            fields.append((f"{INFO_PREFIX}{allele}_SUM", "Float", text))
    if scores.genes:
        key, gene = f"{INFO_PREFIX}TOP_GENE", f"gene logSED over {scores.gene_region} ({counts})"
        gene = f"{gene[:-1]}, pseudocount {scores.pseudocount})"
        text = f"Gene ID (percent-encoded) with the max |{gene}| over its strand-matched tracks"
        fields.append((key, "String", f"{text}, among the genes in the window"))
        text = f"Signed {gene} of {key}, at its track of max |logSED|"
        fields.append((f"{key}_logSED", "Float", text))
        if scores.replicates > 1:
            text = f"Standard deviation of {key}_logSED over the {scores.replicates} replicates"
            fields.append((f"{key}_logSED_SD", "Float", text))
    return fields


def _vcf_records(scores: VariantScores, track_ids: Sequence[str]) -> Iterator[str]:
    for variant, info in zip(scores.variants, _info_column(scores, track_ids), strict=True):
        ident = variant.ident or "."
        locus = f"{variant.chrom}\t{variant.start + 1}\t{ident}\t{variant.ref}\t{variant.alt}"
        yield f"{locus}\t.\t.\t{info}\n"


def _info_column(scores: VariantScores, track_ids: Sequence[str]) -> list[str]:
    """The INFO text of every allele, built field by field over all alleles."""
    at, value, spread = _strongest(scores)  # (V, S) each
    tracks = [_info_text(track) for track in track_ids]
    fields: list[list[str]] = []  # (fields, V)
    for s, name in enumerate(scores.scorers):
        found = ~np.isnan(value[:, s])
        fields.append(_float_pairs(INFO_PREFIX + name, value[:, s], found))
        if scores.replicates > 1:
            fields.append(_float_pairs(f"{INFO_PREFIX}{name}_SD", spread[:, s], found))
        names = (tracks[t] for t in at[:, s].tolist())
        fields.append(_pairs(f"{INFO_PREFIX}{name}_TRACK", names, found))
        if scores.calibration:
            rows = np.arange(len(at))
            percentile = scores.calibration.percentile[rows, at[:, s], s]
            fields.append(_float_pairs(f"{INFO_PREFIX}{name}_PCT", percentile, found))
            beyond = scores.calibration.beyond_noise[rows, at[:, s], s] & found
            fields.append([f"{INFO_PREFIX}{name}_BEYOND_NOISE" if b else "" for b in beyond])
    if scores.scorers:
        rows, found = np.arange(len(at)), ~np.isnan(value[:, 0])
        for allele, sums in (("REF", scores.ref_sum), ("ALT", scores.alt_sum)):
            fields.append(_float_pairs(f"{INFO_PREFIX}{allele}_SUM", sums[rows, at[:, 0]], found))
    if scores.genes:
        gene, log_sed, gene_spread = _top_genes(scores)  # (V,) each
        ids = [_info_text(g.gene_id) for g in scores.genes]
        fields.append(_pairs(f"{INFO_PREFIX}TOP_GENE", (ids[g] for g in gene.tolist()), gene >= 0))
        fields.append(_float_pairs(f"{INFO_PREFIX}TOP_GENE_logSED", log_sed, gene >= 0))
        if scores.replicates > 1:
            key = f"{INFO_PREFIX}TOP_GENE_logSED_SD"
            fields.append(_float_pairs(key, gene_spread, gene >= 0))
    if not fields:
        return ["."] * len(scores.variants)
    return [";".join(filter(None, parts)) or "." for parts in zip(*fields, strict=True)]


def _pairs(key: str, texts: Iterable[str], keep: np.ndarray) -> list[str]:
    """``key=text`` per allele where ``keep`` (``(V,)`` bool), else ``""``."""
    return [f"{key}={text}" if k else "" for text, k in zip(texts, keep.tolist(), strict=True)]


def _float_pairs(key: str, values: np.ndarray, keep: np.ndarray) -> list[str]:
    """``key=value`` per allele where ``keep`` and the ``(V,)`` value is not nan."""
    return _pairs(key, map(_number, values.tolist()), keep & ~np.isnan(values))


def _header_text(text: str) -> str:
    """A quoted header Description cannot hold a quote, a backslash or a line break."""
    return text.replace('"', "'").replace("\\", "/").replace("\n", " ")


def _info_text(value: str) -> str:
    return value.translate(_INFO_ESCAPES)


def _check_model_name(name: str) -> None:
    # It goes inside a quoted Description: a quote, backslash or newline would break the header.
    if not name or not name.isprintable() or '"' in name or "\\" in name:
        raise ValueError(f"model name {name!r} cannot go in a VCF header")


def _check_sorted(scores: VariantScores, contigs: dict[str, int]) -> None:
    order = {name: index for index, name in enumerate(contigs)}
    unknown = sorted({variant.chrom for variant in scores.variants} - order.keys())
    if unknown:
        raise ValueError(f"contigs not in the genome: {', '.join(unknown)}")
    keys = ((order[variant.chrom], variant.start) for variant in scores.variants)
    if any(a > b for a, b in itertools.pairwise(keys)):
        raise ValueError("alleles must be sorted by contig (in genome order) and position")


# --- npz --------------------------------------------------------------------------------------


def write_scores_npz(scores: VariantScores, track_ids: Sequence[str], path: Path) -> Path:
    """Every array in a compressed npz that ``np.load(path, allow_pickle=False)`` reads.

    Arrays: ``scores`` ``(V, T, S)`` (the mean over the model's replicates), ``spread``
    ``(V, T, S)`` (their standard deviation, nan for one replicate), ``replicates`` (a count),
    ``ref_sum`` and ``alt_sum`` ``(V, T)`` float32 (nan for unscored alleles); ``scorers``
    ``(S,)``, ``track_ids`` ``(T,)``; per allele ``chrom``, ``pos`` (1-based int64), ``ref``,
    ``alt``, ``id`` ``(V,)``; per gene score ``gene_variant`` (index into the alleles),
    ``gene_id``, ``gene_name``, ``gene_track`` (index into ``track_ids``, not the model's track
    index), ``gene_sed``, ``gene_log_sed``, ``gene_log_sed_spread`` ``(N,)``.
    Text is fixed-width unicode (no object arrays), so an array is as wide as its longest
    string: one long allele widens ``ref`` for every allele (see ``NPZ_MAX_TEXT_BYTES``).

    Args:
        scores: the scores to save.
        track_ids: ``T`` track identifiers.
        path: the file to write; used as is (numpy adds no ``.npz``).

    Returns:
        ``path``.

    Raises:
        ValueError: a text array would take more than ``NPZ_MAX_TEXT_BYTES``.
    """
    _check_tracks(scores, track_ids)
    path = Path(path)
    arrays = _npz_arrays(scores, track_ids)
    with _staged(path) as staged:
        _savez_fast(staged, arrays)
    return path


def _savez_fast(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed``'s file (what ``np.load`` reads) at zlib level 1, not 6: a
    genome-wide job's arrays (fixed-width gene names mostly) took 2.4 times as long at 6, for
    a file a tenth smaller (64,500 alleles: 1.79 s, 17 MB -> 0.75 s, 19 MB), in the step that
    joins a job's parts while the other workers wait."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _npz_arrays(scores: VariantScores, track_ids: Sequence[str]) -> dict[str, np.ndarray]:
    variants, found = scores.variants, scores.gene_scores
    genes = [scores.genes[g] for g in found.gene.tolist()]
    return {
        "scores": np.asarray(scores.scores, np.float32),
        "spread": np.asarray(scores.spread, np.float32),
        "replicates": np.int64(scores.replicates),
        "ref_sum": np.asarray(scores.ref_sum, np.float32),
        "alt_sum": np.asarray(scores.alt_sum, np.float32),
        "scorers": _text_array("scorers", scores.scorers),
        "track_ids": _text_array("track_ids", track_ids),
        "chrom": _text_array("chrom", [v.chrom for v in variants]),
        "pos": np.array([v.start + 1 for v in variants], np.int64),
        "ref": _text_array("ref", [v.ref for v in variants]),
        "alt": _text_array("alt", [v.alt for v in variants]),
        "id": _text_array("id", [v.ident for v in variants]),
        "gene_variant": np.asarray(found.variant, np.int64),
        "gene_id": _text_array("gene_id", [gene.gene_id for gene in genes]),
        "gene_name": _text_array("gene_name", [gene.name for gene in genes]),
        "gene_track": _track_columns(scores, found.track),
        "gene_sed": np.asarray(found.sed, np.float32),
        "gene_log_sed": np.asarray(found.log_sed, np.float32),
        "gene_log_sed_spread": np.asarray(found.log_sed_spread, np.float32),
    } | _npz_calibration(scores)


def _npz_calibration(scores: VariantScores) -> dict[str, np.ndarray]:
    if scores.calibration is None:
        return {}
    return {
        "percentile": np.asarray(scores.calibration.percentile, np.float32),
        "beyond_noise": np.asarray(scores.calibration.beyond_noise, bool),
        "background": np.asarray(scores.calibration.background),
    }


def _text_array(name: str, texts: Sequence[str]) -> np.ndarray:
    """``(n,)`` fixed-width unicode (4 bytes a character, times the longest string)."""
    size = 4 * len(texts) * max(map(len, texts), default=1)
    if size > NPZ_MAX_TEXT_BYTES:
        raise ValueError(
            f"npz array {name} would take {size / 2**30:.1f} GiB (its longest string times "
            f"{len(texts):,} rows); use the TSV or VCF export"
        )
    return np.array(texts, dtype=str) if texts else np.zeros(0, "<U1")


# --- summaries --------------------------------------------------------------------------------


def summarize(scores: VariantScores, track_ids: Sequence[str], primary: str) -> list[dict]:
    """Per allele, the values a database row keeps for sorting and filtering.

    Each dict: ``max_abs`` (largest ``|primary|`` over tracks), ``primary`` (the signed value
    there), ``primary_spread`` (its replicates' standard deviation), ``top_track`` (its
    identifier: the row's track), ``top_track_scores`` (every scorer at the row's track),
    ``scorer_max`` (per scorer, the signed value at its own track of largest ``|value|``) and
    ``scorer_track`` (that track: each scorer's maximum may sit on another track, so a
    maximum is never shown without it), ``top_gene``, ``top_gene_name``, ``top_gene_log_sed``
    and ``top_gene_log_sed_spread`` (the gene row of largest ``|logSED|``). nan becomes None
    (every spread of a one-replicate model), and an unscored allele (or one without gene
    scores) gets ``""`` for the names (None for a scorer's track). Ties go to the first track
    or gene row.
    Vectorised: 250,000 alleles × 12 tracks × 9 scorers take about a second.

    Args:
        scores: ``(V, T, S)`` scores and the gene scores.
        track_ids: ``T`` track identifiers.
        primary: the scorer that ranks alleles (one of ``scores.scorers``).

    Returns:
        ``V`` dicts, in the order of ``scores.variants``.
    """
    _check_tracks(scores, track_ids)
    if primary not in scores.scorers:
        raise ValueError(f"primary scorer {primary} was not computed ({scores.scorers})")
    at, value, spread = _strongest(scores)  # (V, S) each
    column = scores.scorers.index(primary)
    values = _nullable(value)  # V lists of S
    at_top = _nullable(_at_tracks(scores, scores.scores, at[:, column]))  # at the row's track
    calibrated = _calibrated_summary(scores, at, column)
    gene, log_sed, gene_spread = _top_genes(scores)  # (V,) each
    ids = [g.gene_id for g in scores.genes] + [""]  # gene −1 (none) → ""
    names = [g.name for g in scores.genes] + [""]
    rows = zip(
        values,
        at_top,
        at.tolist(),
        _nullable(spread[:, column]),
        gene.tolist(),
        _nullable(log_sed),
        _nullable(gene_spread),
        strict=True,
    )
    return [
        {
            "max_abs": None if row[column] is None else abs(row[column]),
            "primary": row[column],
            "primary_spread": row_spread,
            "top_track": "" if row[column] is None else track_ids[where[column]],
            "top_track_scores": dict(zip(scores.scorers, here, strict=True)),
            "scorer_max": dict(zip(scores.scorers, row, strict=True)),
            "scorer_track": {
                name: None if x is None else track_ids[t]
                for name, x, t in zip(scores.scorers, row, where, strict=True)
            },
            "top_gene": ids[g],
            "top_gene_name": names[g],
            "top_gene_log_sed": sed,
            "top_gene_log_sed_spread": sed_spread,
        }
        | extra
        for (row, here, where, row_spread, g, sed, sed_spread), extra in zip(
            rows, calibrated, strict=True
        )
    ]


def _calibrated_summary(scores: VariantScores, at: np.ndarray, column: int) -> list[dict]:
    """Per allele: ``primary_pct`` and ``beyond_noise`` (the primary at the row's track),
    ``top_track_pct`` (every scorer's percentile at the row's track) and ``scorer_pct`` (each
    scorer's at its own track); None and empty without a calibration."""
    calibration = scores.calibration
    if calibration is None or not scores.tracks:
        empty = {"primary_pct": None, "beyond_noise": None, "top_track_pct": {}, "scorer_pct": {}}
        return [dict(empty) for _ in scores.variants]
    here = _nullable(_at_tracks(scores, calibration.percentile, at[:, column]))
    own = np.take_along_axis(calibration.percentile, at[:, None, :], axis=1)[:, 0, :]
    own[scores.unscored] = np.nan
    rows = np.arange(len(at))
    beyond = calibration.beyond_noise[rows, at[:, column], column].tolist()
    names = scores.scorers
    return [
        {
            "primary_pct": top[column],
            "beyond_noise": None if top[column] is None else flag,
            "top_track_pct": dict(zip(names, top, strict=True)),
            "scorer_pct": dict(zip(names, mine, strict=True)),
        }
        for top, mine, flag in zip(here, _nullable(own), beyond, strict=True)
    ]


def _at_tracks(scores: VariantScores, values: np.ndarray, tracks: np.ndarray) -> np.ndarray:
    """``(V, S)``: ``values`` ``(V, T, S)`` of each allele at one track column of it (nan:
    unscored)."""
    if values.shape[1] == 0:
        return np.full((values.shape[0], values.shape[2]), np.nan, np.float32)
    found = np.take_along_axis(values, tracks[:, None, None], axis=1)[:, 0, :]
    found[scores.unscored] = np.nan
    return found


def _nullable(values: np.ndarray) -> list:
    """``values.tolist()`` of a 1-D or 2-D array, with nan as None."""
    rows = values.tolist()
    if values.ndim == 1:
        return [None if math.isnan(x) else x for x in rows]
    for index in np.flatnonzero(np.isnan(values).any(axis=1)).tolist():  # only rows with nan
        rows[index] = [None if math.isnan(x) else x for x in rows[index]]
    return rows


# --- shared pieces ----------------------------------------------------------------------------


def _strongest(scores: VariantScores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per allele and scorer, the track column of largest ``|score|``, the signed score and
    its replicate spread.

    Returns:
        ``(V, S)`` int64 columns (the first on ties, 0 when all are nan), ``(V, S)`` float32
        values (nan when all tracks are nan, and for every unscored allele) and ``(V, S)``
        float32 spreads (nan there too, and for a model of one replicate).
    """
    values = scores.scores  # (V, T, S)
    shape = (values.shape[0], values.shape[2])
    if values.shape[1] == 0:
        nothing = np.full(shape, np.nan, np.float32)
        return np.zeros(shape, np.int64), nothing, nothing.copy()
    magnitude = np.abs(values)
    magnitude[np.isnan(magnitude)] = -1.0  # below every real |value|
    at = magnitude.argmax(axis=1)  # (V, S)
    value = np.take_along_axis(values, at[:, None, :], axis=1)[:, 0, :]  # (V, S)
    spread = np.take_along_axis(scores.spread, at[:, None, :], axis=1)[:, 0, :]
    value[scores.unscored] = np.nan
    spread[scores.unscored] = np.nan
    return at, value, spread


def _top_genes(scores: VariantScores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per allele, the gene of its gene row of largest ``|logSED|``, that logSED and its
    replicate spread.

    Returns:
        ``(V,)`` int64 indices into ``scores.genes`` (−1: no gene row, or all nan), ``(V,)``
        float32 signed logSED and ``(V,)`` float32 spread (nan where −1, or one replicate).
    """
    found = scores.gene_scores
    gene = np.full(len(scores.variants), -1, np.int64)
    log_sed = np.full(len(scores.variants), np.nan, np.float32)
    spread = np.full(len(scores.variants), np.nan, np.float32)
    magnitude = np.abs(found.log_sed)
    magnitude[np.isnan(magnitude)] = -1.0
    order = np.lexsort((-magnitude, found.variant))  # by allele, then largest |logSED| first
    alleles, first = np.unique(found.variant[order], return_index=True)
    best = order[first]  # (alleles,) the row kept for each allele
    kept = ~np.isnan(found.log_sed[best])
    gene[alleles[kept]] = found.gene[best[kept]]
    log_sed[alleles[kept]] = found.log_sed[best[kept]]
    spread[alleles[kept]] = found.log_sed_spread[best[kept]]
    gene[scores.unscored] = -1
    log_sed[scores.unscored] = np.nan
    spread[scores.unscored] = np.nan
    return gene, log_sed, spread


def _with_sums(scores: VariantScores, index: int) -> np.ndarray:
    """``(T, S + 2)``: the scores of allele ``index``, then its ref_sum and alt_sum."""
    sums = [scores.ref_sum[index, :, None], scores.alt_sum[index, :, None]]
    return np.concatenate([scores.scores[index], *sums], axis=1)


def _track_columns(scores: VariantScores, tracks: np.ndarray) -> np.ndarray:
    """``(N,)`` model track indices → ``(N,)`` int64 columns of ``scores.tracks``."""
    lookup = np.full(max(scores.tracks, default=-1) + 1, -1, dtype=np.int64)
    lookup[np.asarray(scores.tracks, dtype=np.int64)] = np.arange(len(scores.tracks))
    columns = lookup[tracks]
    if (columns < 0).any():
        raise ValueError("gene scores on a track the scores do not hold")
    return columns


def _check_tracks(scores: VariantScores, track_ids: Sequence[str]) -> None:
    if len(track_ids) != len(scores.tracks):
        raise ValueError(f"{len(track_ids)} track identifiers for {len(scores.tracks)} tracks")


def _locus(variant) -> list:
    """chrom, 1-based pos, ref, alt, id."""
    return [variant.chrom, variant.start + 1, variant.ref, variant.alt, variant.ident]


def _number(value: float) -> str:
    return f"{value:.6g}"


@contextlib.contextmanager
def _staged(path: Path, *suffixes: str) -> Iterator[Path]:
    """A path to write in a new temp folder next to ``path``; when the block succeeds, it
    replaces ``path`` (then ``<staged><suffix>`` replaces ``<path><suffix>``, for an index)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as workdir:
        staged = Path(workdir) / path.name
        yield staged
        # Data before index, so an index is never older than the data it describes.
        replace_durably(staged, path)
        for suffix in suffixes:
            replace_durably(Path(f"{staged}{suffix}"), Path(f"{path}{suffix}"))
