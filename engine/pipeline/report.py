"""Offline HTML reports of a bundle: a table of sites (top variants, or a design's edits) and an
igv.js view of each, in one file that opens from disk with the network off.

igv-reports (PyPI ``igv-reports``) builds one igv.js session per site: the reference around it,
the genes and the coverage tracks, each sliced to the site's flanks and embedded as a gzipped
base64 ``data:`` URI. Its entry point takes an argparse namespace, so it runs as a subprocess of
this interpreter (``python -m igv_reports.report``) with a template holding only the sessions,
and this module writes its inputs and puts the page together:

- igv-reports does not read bigWig: each track's entries around the sites become a bedGraph
  (``bigwig.read_entries``), so the page holds only what it shows.
- A site's predicted tracks are its own (the alternative allele's prediction differs per
  variant, and neighbouring variants' flanks overlap), so igv-reports runs once per group of
  sites with the same bigWig files: once in all when every track is shared.
- Its stock templates load igv.js from a CDN. ``report_templates/variants.html`` (derived from
  igv-reports' variant template, MIT) inlines the vendored ``static/vendor/igv/igv.min.js`` and
  creates the browser with ``loadDefaultGenomes: false``: the page fetches nothing.
- The table is written here, so numbers keep 4 significant digits (igv-reports shows 2).

Framework-free (no Django, no torch): plain inputs in, a file out.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import logging
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.designs.edits import Edit
from engine.io.annotation import Exon, Gene, read_genes
from engine.io.bigwig import read_entries
from engine.io.fasta import Genome
from engine.io.intervals import Interval

logger = logging.getLogger(__name__)

IGV_JS = Path(__file__).resolve().parents[2] / "static" / "vendor" / "igv" / "igv.min.js"
TEMPLATE = Path(__file__).with_name("report_templates") / "variants.html"
DEFAULT_FLANK_BP = 1_000
FIXED_COLUMNS = ("CHROM", "POSITION", "REF", "ALT", "ID")
DESIGN_COLUMNS = ("kind", "label", "length change")
IGV_REPORTS_TIMEOUT_S = 300  # one run; a site's slices take well under a second
_LONG_ALLELE = 12  # longer alleles are shortened in the table (a design's pasted sequence)
_PLACEHOLDERS = re.compile(
    r'"@(TABLE_JSON|SESSION_DICTIONARY)@"|@(TITLE|DESCRIPTION|TABLE_LABEL|IGV_JS)@'
)

Value = float | int | str | None
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


@dataclass(frozen=True)
class ReportTrack:
    """A coverage track, drawn around each site from that site's bigWig of this ``name``.

    Tracks with the same non-empty ``autoscale_group`` share one y scale (the observed and
    predicted coverage of one assay); an empty group scales the track on its own.
    """

    name: str
    color: str = "rgb(120,120,120)"
    autoscale_group: str = ""
    height: int = 60


@dataclass(frozen=True)
class ReportSite:
    """One row of the table and the igv.js view around it.

    ``start`` is 0-based; ``ref`` and ``alt`` are VCF alleles (non-empty, an indel keeps its
    anchor base). ``values`` maps a table column to its value (a missing column stays blank).
    ``bigwigs`` maps a ``ReportTrack.name`` to the bigWig holding this site's values: the same
    file for every site for an observed track, the variant's own files for its predictions. A
    track with no file for a site is left out of that site's view.
    """

    chrom: str
    start: int
    ref: str
    alt: str
    id: str
    values: Mapping[str, Value] = field(default_factory=dict)
    bigwigs: Mapping[str, Path] = field(default_factory=dict)


def write_variant_report(
    out: Path,
    *,
    fasta: Path,
    sites: Sequence[ReportSite],
    tracks: Sequence[ReportTrack],
    columns: Sequence[str],
    annotation: Path | None = None,
    title: str = "Variant report",
    description: str = "",
    flank_bp: int = DEFAULT_FLANK_BP,
) -> Path:
    """Write the offline report of some variants (the caller picks them, e.g. the top 50).

    The page has a sortable table (CHROM, POSITION, REF, ALT, ID, then ``columns``) and one
    igv.js browser that shows the selected row's site: the reference sequence, the genes and
    ``tracks``, ``flank_bp`` bases on each side.

    Args:
        out: the HTML file to write; replaced atomically.
        fasta: the reference FASTA with its ``.fai`` (and ``.gzi`` when bgzip-compressed).
        sites: the table's rows, in the order shown.
        tracks: coverage tracks in display order, below the genes.
        columns: the ``ReportSite.values`` keys to show, in order.
        annotation: GFF3 or GTF of the genome's genes; None for no gene track.
        title: the page's title and heading.
        description: a line of text under the heading.
        flank_bp: bases embedded and shown on each side of a site.

    Returns:
        ``out``.

    Raises:
        ValueError: on no sites, ``flank_bp`` below 1, an empty allele, repeated track names or
            a site's bigWig for a track not in ``tracks``.
        RuntimeError: when igv-reports fails (its error output is in the message).
    """
    return _write_report(
        out,
        fasta=fasta,
        sites=sites,
        tracks=tracks,
        columns=columns,
        annotation=annotation,
        title=title,
        description=description,
        flank_bp=flank_bp,
        table_label="Variants",
    )


def write_design_report(
    out: Path,
    *,
    fasta: Path,
    window: Interval,
    edits: Sequence[Edit],
    tracks: Sequence[ReportTrack],
    bigwigs: Mapping[str, Path],
    annotation: Path | None = None,
    title: str = "Design report",
    description: str = "",
    flank_bp: int = DEFAULT_FLANK_BP,
) -> Path:
    """Write the offline report of a design: one row per edit, with the design's tracks.

    The table's columns are ``DESIGN_COLUMNS`` (the edit's kind, label and bases gained or
    lost); REF and ALT are VCF-style, so an insertion or deletion carries the base before it.

    Args:
        out: the HTML file to write; replaced atomically.
        fasta: the reference FASTA with its index files.
        window: the design's window on the genome.
        edits: the design's edits (window coordinates, ``engine.designs.edits``).
        tracks: coverage tracks in display order (e.g. observed, reference and edited
            predictions of ``pipeline.predict_design``, ``ref.<track>.bw`` and ``alt.<track>.bw``).
        bigwigs: ``ReportTrack.name`` to the design's bigWig of that track.
        annotation, title, description, flank_bp: as in ``write_variant_report``.

    Returns:
        ``out``.
    """
    genome = Genome(fasta)
    try:
        sites = [
            _edit_site(genome, window, number, edit, bigwigs)
            for number, edit in enumerate(edits, start=1)
        ]
    finally:
        genome.close()
    return _write_report(
        out,
        fasta=fasta,
        sites=sites,
        tracks=tracks,
        columns=DESIGN_COLUMNS,
        annotation=annotation,
        title=title,
        description=description,
        flank_bp=flank_bp,
        table_label="Edits",
    )


def _write_report(
    out: Path,
    *,
    fasta: Path,
    sites: Sequence[ReportSite],
    tracks: Sequence[ReportTrack],
    columns: Sequence[str],
    annotation: Path | None,
    title: str,
    description: str,
    flank_bp: int,
    table_label: str,
) -> Path:
    _check(sites, tracks, flank_bp)
    genes = read_genes(annotation) if annotation is not None else None
    groups = _groups(sites)
    sessions: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="gw-report-") as work:
        for number, (indexes, bigwigs) in enumerate(groups):
            folder = Path(work) / f"group{number}"
            folder.mkdir()
            members = [sites[i] for i in indexes]
            configs = _track_configs(folder, members, tracks, bigwigs, genes, flank_bp)
            found = _run_igv_reports(folder, fasta, members, configs, flank_bp)
            # igv-reports numbers a group's sites from 0; the page numbers all of them.
            sessions.update({str(indexes[int(key)]): uri for key, uri in found.items()})
    page = _render(
        title=title,
        description=description,
        table_label=table_label,
        table=_table(sites, columns),
        sessions=sessions,
    )
    _write_atomically(Path(out), page)
    logger.info(
        "report %s: %d sites, %d igv-reports runs, %d bytes",
        out,
        len(sites),
        len(groups),
        len(page.encode()),
    )
    return Path(out)


def _check(sites: Sequence[ReportSite], tracks: Sequence[ReportTrack], flank_bp: int) -> None:
    if not sites:
        raise ValueError("a report needs at least one site")
    if flank_bp < 1:
        raise ValueError(f"flank_bp must be at least 1, not {flank_bp}")
    names = {track.name for track in tracks}
    if len(names) != len(tracks):
        raise ValueError("track names must be unique")
    for site in sites:
        if not site.ref or not site.alt:
            raise ValueError(f"site {site.id}: REF and ALT must not be empty (VCF alleles)")
        unknown = set(site.bigwigs) - names
        if unknown:
            raise ValueError(f"site {site.id} has bigWigs of unknown tracks {sorted(unknown)}")


def _groups(sites: Sequence[ReportSite]) -> list[tuple[list[int], dict[str, Path]]]:
    """Indexes of the sites that share the same bigWig files, in order of first appearance."""
    groups: dict[frozenset[tuple[str, Path]], list[int]] = {}
    for index, site in enumerate(sites):
        groups.setdefault(frozenset(site.bigwigs.items()), []).append(index)
    return [(indexes, dict(key)) for key, indexes in groups.items()]


def _window(site: ReportSite, flank_bp: int) -> Interval:
    """The bases igv-reports embeds around a site: its flanks, and one more base each side for
    its rounding of the region's ends."""
    end = site.start + len(site.ref)
    return Interval(site.chrom, site.start - flank_bp - 1, end + flank_bp + 1)


def _merged(windows: Iterable[Interval]) -> list[Interval]:
    """Windows with overlapping ones joined, sorted: each base is read (and written) once."""
    merged: list[Interval] = []
    for window in sorted(windows):
        last = merged[-1] if merged else None
        if last is not None and last.chrom == window.chrom and window.start <= last.end:
            merged[-1] = Interval(last.chrom, last.start, max(last.end, window.end))
        else:
            merged.append(window)
    return merged


def _track_configs(
    folder: Path,
    sites: Sequence[ReportSite],
    tracks: Sequence[ReportTrack],
    bigwigs: Mapping[str, Path],
    genes: list[Gene] | None,
    flank_bp: int,
) -> list[dict]:
    """igv.js track configs with ``url`` a local slice that igv-reports embeds per site."""
    windows = _merged(_window(site, flank_bp) for site in sites)
    configs = []
    if genes is not None:
        bed = folder / "genes.bed"
        _write_genes_bed(bed, genes, windows)
        configs.append(
            {"name": "Genes", "url": str(bed), "type": "annotation", "format": "bed"}
            | {"displayMode": "EXPANDED", "height": 60}
        )
    for number, track in enumerate(tracks):
        if track.name not in bigwigs:
            continue
        bedgraph = folder / f"track{number}.bedgraph"
        _write_bedgraph(bedgraph, bigwigs[track.name], windows)
        config = {"name": track.name, "url": str(bedgraph), "type": "wig", "format": "bedgraph"}
        config |= {"color": track.color, "height": track.height}
        if track.autoscale_group:
            config["autoscaleGroup"] = track.autoscale_group
        configs.append(config)
    return configs


def _write_bedgraph(path: Path, bigwig: Path, windows: Sequence[Interval]) -> None:
    """The bigWig's entries in the windows; zeros are left out (igv.js draws nothing for
    either), which keeps a per-base track with mostly zeros small."""
    with path.open("w") as handle:
        for window in windows:
            for start, end, value in read_entries(bigwig, window):
                if value:
                    handle.write(f"{window.chrom}\t{start}\t{end}\t{value:.6g}\n")


def _write_genes_bed(path: Path, genes: Sequence[Gene], windows: Sequence[Interval]) -> None:
    """BED12 of the genes that reach into a window: name, strand and exons."""
    with path.open("w") as handle:
        for gene in genes:
            locus = Interval(gene.chrom, gene.start, gene.end)
            if any(locus.overlaps(window) for window in windows):
                handle.write(_bed12(gene))


def _bed12(gene: Gene) -> str:
    exons = gene.exons or (Exon(gene.start, gene.end),)
    sizes = ",".join(str(exon.end - exon.start) for exon in exons)
    starts = ",".join(str(exon.start - gene.start) for exon in exons)
    fields = (gene.chrom, gene.start, gene.end, gene.name or gene.gene_id, 0, gene.strand)
    thick = (gene.start, gene.end, 0, len(exons), sizes, starts)
    return "\t".join(str(value) for value in fields + thick) + "\n"


def _run_igv_reports(
    folder: Path,
    fasta: Path,
    sites: Sequence[ReportSite],
    configs: list[dict],
    flank_bp: int,
) -> dict[str, str]:
    """igv-reports' session ``data:`` URI of each site, keyed by its index in ``sites``."""
    vcf = _write_sites_vcf(folder / "sites.vcf", sites)
    template = folder / "sessions.template"
    template.write_text('"@SESSION_DICTIONARY@"\n')
    output = folder / "sessions.json"
    # --flanking is the whole flank (half each side); --window the initial view, site-centred.
    command = [sys.executable, "-m", "igv_reports.report", str(vcf), "--fasta", str(fasta)]
    command += ["--flanking", str(2 * flank_bp), "--window", str(2 * flank_bp + 1)]
    command += ["--template", str(template), "--output", str(output)]
    if configs:
        config_file = folder / "tracks.json"
        config_file.write_text(json.dumps(configs))
        command += ["--track-config", str(config_file)]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=IGV_REPORTS_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"igv-reports failed ({result.returncode}): {result.stderr[-2000:]}")
    return {site: _timeless(uri) for site, uri in json.loads(output.read_text()).items()}


_GZIP_URI = re.compile(r"data:application/gzip;base64,([A-Za-z0-9+/=]+)")


def _timeless(text: str) -> str:
    """``text`` with every gzip ``data:`` URI (nested ones too) recompressed without a time.

    igv-reports writes the current time into each gzip header, so the same report built twice
    would differ and a bundle's contents hash would never repeat. Contents are kept byte for
    byte (latin-1 maps each byte to one character and back)."""

    def recompress(match: re.Match) -> str:
        inner = gzip.decompress(base64.b64decode(match.group(1))).decode("latin-1")
        packed = gzip.compress(_timeless(inner).encode("latin-1"), mtime=0)
        return "data:application/gzip;base64," + base64.b64encode(packed).decode("ascii")

    return _GZIP_URI.sub(recompress, text)


def _write_sites_vcf(path: Path, sites: Sequence[ReportSite]) -> Path:
    """The sites as a VCF for igv-reports (it reads positions only; the table is ours)."""
    contigs = dict.fromkeys(site.chrom for site in sites)
    lines = ["##fileformat=VCFv4.2", *(f"##contig=<ID={chrom}>" for chrom in contigs)]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    # VCF POS is 1-based.
    lines += [f"{s.chrom}\t{s.start + 1}\t.\t{s.ref}\t{s.alt}\t.\t.\t." for s in sites]
    path.write_text("\n".join(lines) + "\n")
    return path


def _table(sites: Sequence[ReportSite], columns: Sequence[str]) -> dict:
    """The table in igv-reports' form: a ``unique_id`` column (the session key), then the
    cells' text (the page sets it as text, so IDs and labels are never read as markup)."""
    headers = ["unique_id", *FIXED_COLUMNS, *columns]
    rows = [
        [
            index,
            site.chrom,
            site.start + 1,  # POSITION, 1-based as in the VCF
            _allele(site.ref),
            _allele(site.alt),
            site.id,
            *(_cell(site.values.get(column)) for column in columns),
        ]
        for index, site in enumerate(sites)
    ]
    return {"headers": headers, "rows": rows}


def _allele(bases: str) -> str:
    if len(bases) > _LONG_ALLELE:
        return f"{bases[:10]}… ({len(bases):,} bp)"
    return bases


def _cell(value: Value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _render(
    *, title: str, description: str, table_label: str, table: dict, sessions: dict[str, str]
) -> str:
    script = IGV_JS.read_text(encoding="utf-8")
    if "</script" in script.lower():  # would end the inline <script> element early
        raise RuntimeError(f"{IGV_JS} cannot be inlined: it contains '</script'")
    values = {
        "TITLE": html.escape(title),
        "DESCRIPTION": html.escape(description),
        "TABLE_LABEL": html.escape(table_label),
        "TABLE_JSON": _script_json(table),
        "SESSION_DICTIONARY": _script_json(sessions),
        "IGV_JS": script,
    }
    # One pass, so text put in (igv.js, a title) is never searched for placeholders.
    template = TEMPLATE.read_text(encoding="utf-8")
    return _PLACEHOLDERS.sub(lambda match: values[match.group(1) or match.group(2)], template)


def _script_json(value: object) -> str:
    # In a <script> element "</script" would close it and "<!--" changes how the rest is
    # parsed; JSON's \u escapes keep the same strings without <, > or &.
    return json.dumps(value).translate(_SCRIPT_SAFE)


def _edit_site(
    genome: Genome, window: Interval, number: int, edit: Edit, bigwigs: Mapping[str, Path]
) -> ReportSite:
    """An edit as a VCF-style site (genome coordinates, anchor base for an indel)."""
    start, end = window.start + edit.start, window.start + edit.end
    ref, alt = genome.fetch(Interval(window.chrom, start, end)), edit.sequence
    if not ref or not alt:
        if start > 0:  # VCF: the base before an indel on both alleles
            start -= 1
            anchor = genome.fetch(Interval(window.chrom, start, start + 1))
            ref, alt = anchor + ref, anchor + alt
        else:  # ... or the base after, at the contig's first base
            anchor = genome.fetch(Interval(window.chrom, end, end + 1))
            ref, alt = ref + anchor, alt + anchor
    values = {"kind": edit.kind, "label": edit.label, "length change": edit.length_change}
    return ReportSite(window.chrom, start, ref, alt, f"edit {number}", values, dict(bigwigs))


def _write_atomically(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
