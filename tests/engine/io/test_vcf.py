"""engine.io.vcf: coordinates, splitting, messages, outputs (malformed files: corpus)."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pysam
import pytest

from engine.io import vcf_text
from engine.io.contigs import ContigResolver
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.io.vcf import (
    Variant,
    VcfFileError,
    VcfLimits,
    VcfReport,
    validate_vcf,
    write_issues_tsv,
    write_normalized_vcf,
)

DATA = Path(__file__).resolve().parents[2] / "data"
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
HEADER_LINES = 2


@pytest.fixture(scope="module")
def mini() -> Genome:
    return Genome(DATA / "mini.fa")


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty folder for outputs, apart from the upload."""
    (tmp_path / "out").mkdir()
    return tmp_path / "out"


def ref(genome: Genome, chrom: str, pos: int, length: int = 1) -> str:
    """The genome's bases at 1-based ``pos``, as a VCF REF would state them."""
    return genome.fetch(Interval(chrom, pos - 1, pos - 1 + length))


def other(base: str) -> str:
    return "T" if base[0] != "T" else "C"


def record(chrom: str, pos: object, ref: str, alt: str, ident: str = ".") -> str:
    return f"{chrom}\t{pos}\t{ident}\t{ref}\t{alt}\t.\t.\t."


def snv(genome: Genome, chrom: str, pos: int, ident: str = ".") -> str:
    base = ref(genome, chrom, pos)
    return record(chrom, pos, base, other(base), ident)


def validate(tmp_path: Path, genome: Genome, *records: str, **kwargs: object) -> VcfReport:
    path = tmp_path / "upload.vcf"
    path.write_text(HEADER + "".join(line + "\n" for line in records))
    return validate_vcf(path, genome, **kwargs)  # type: ignore[arg-type]


def test_it_converts_vcf_pos_to_a_0_based_start(tmp_path: Path, mini: Genome) -> None:
    deletion = ref(mini, "I", 200, 3)
    report = validate(
        tmp_path, mini, snv(mini, "I", 100, "rs1"), record("I", 200, deletion, deletion[0])
    )
    first, second = report.accepted
    assert (first.chrom, first.start, first.end, first.ident, first.line) == (
        "I",
        99,
        100,
        "rs1",
        3,
    )
    assert (second.start, second.end, second.ident) == (199, 202, "")
    assert first.ref == mini.fetch(Interval("I", first.start, first.end))


def test_it_accepts_the_first_and_last_base_of_a_contig(tmp_path: Path, mini: Genome) -> None:
    report = validate(tmp_path, mini, snv(mini, "II", 1), snv(mini, "II", 4000))
    assert [variant.start for variant in report.accepted] == [0, 3999]


def test_it_resolves_contig_aliases_and_reports_the_renaming(tmp_path: Path, mini: Genome) -> None:
    report = validate(tmp_path, mini, "chr" + snv(mini, "I", 100), "chr" + snv(mini, "II", 5))
    assert [variant.chrom for variant in report.accepted] == ["I", "II"]
    assert report.contigs_renamed == {"chrI": "I", "chrII": "II"}


def test_it_uses_a_given_resolver(tmp_path: Path, mini: Genome) -> None:
    resolver = ContigResolver(mini.contig_lengths, aliases={"yeast_1": "I"})
    report = validate(tmp_path, mini, "yeast_1" + snv(mini, "I", 10)[1:], resolver=resolver)
    assert report.accepted[0].chrom == "I"
    assert report.contigs_renamed == {"yeast_1": "I"}


def test_it_splits_multiallelic_records(tmp_path: Path, mini: Genome) -> None:
    base = ref(mini, "I", 100)
    alts = [b for b in "ACGT" if b != base]
    report = validate(tmp_path, mini, record("I", 100, base, ",".join(alts) + ",<DEL>"))
    assert [variant.alt for variant in report.accepted] == sorted(alts)
    assert {variant.line for variant in report.accepted} == {3}
    assert report.multiallelic_split == 1
    assert [(issue.line, issue.reason) for issue in report.issues] == [(3, "symbolic allele")]


def test_it_sorts_by_genome_contig_order_then_position(tmp_path: Path, mini: Genome) -> None:
    report = validate(tmp_path, mini, snv(mini, "II", 5), snv(mini, "I", 900), snv(mini, "I", 10))
    assert [(v.chrom, v.start) for v in report.accepted] == [("I", 9), ("I", 899), ("II", 4)]


def test_it_keeps_the_first_of_duplicate_records(tmp_path: Path, mini: Genome) -> None:
    line = snv(mini, "I", 100)
    report = validate(tmp_path, mini, line.replace(".", "first", 1), line, line)
    assert [(v.line, v.ident) for v in report.accepted] == [(3, "first")]
    assert report.duplicates == 2
    assert [(i.line, i.status, i.detail) for i in report.issues] == [
        (4, "skipped", "same variant as line 3"),
        (5, "skipped", "same variant as line 3"),
    ]
    assert report.issues[0].text == line


def test_the_earliest_copy_is_kept_whatever_its_id_sorts_as(tmp_path: Path, mini: Genome) -> None:
    base = ref(mini, "I", 100)
    late = [record("I", 100, base, other(base), ident) for ident in ("zz", "mm", "aa")]
    report = validate(tmp_path, mini, snv(mini, "I", 50), *late)
    assert [(v.line, v.ident) for v in report.accepted] == [(3, ""), (4, "zz")]
    assert [(i.line, i.detail) for i in report.issues] == [
        (5, "same variant as line 4"),
        (6, "same variant as line 4"),
    ]


def test_a_ref_mismatch_names_both_bases_and_the_1_based_locus(
    tmp_path: Path, mini: Genome
) -> None:
    genome_base = ref(mini, "I", 1234)
    report = validate(tmp_path, mini, record("I", 1234, other(genome_base), "A"))
    (issue,) = report.issues
    assert (issue.line, issue.status, issue.reason) == (3, "rejected", "REF mismatch")
    assert (
        issue.detail == f"REF is {other(genome_base)} but the genome has {genome_base} at I:1,234"
    )


def test_a_lowercase_ref_is_compared_case_insensitively(tmp_path: Path, mini: Genome) -> None:
    bases = ref(mini, "I", 500, 4)
    report = validate(tmp_path, mini, record("I", 500, bases.lower(), bases[0].lower()))
    assert (report.accepted[0].ref, report.accepted[0].alt) == (bases, bases[0])


def test_an_unknown_contig_lists_the_genomes_contigs(tmp_path: Path, mini: Genome) -> None:
    report = validate(tmp_path, mini, record("chr22", 5, "A", "G"))
    assert report.issues[0].detail == "contig 'chr22' is not in this genome (contigs: I, II)"


def test_a_pos_past_the_end_names_the_contig_length(tmp_path: Path, mini: Genome) -> None:
    report = validate(tmp_path, mini, record("I", 6001, "A", "G"))
    (issue,) = report.issues
    assert issue.reason == "POS beyond the contig end"
    assert "I:6,001" in issue.detail and "contig I (6,000 bp)" in issue.detail


def test_a_bad_pos_quotes_the_value(tmp_path: Path, mini: Genome) -> None:
    report = validate(tmp_path, mini, record("I", "12a", "A", "G"))
    assert report.issues[0].detail.startswith("POS '12a' is not a position")


def test_a_short_record_names_both_column_counts(tmp_path: Path, mini: Genome) -> None:
    report = validate(tmp_path, mini, "I\t5\t.\tA\tG")
    assert report.issues[0].detail == "5 tab-separated columns, but the #CHROM line has 8"


def test_issue_text_is_the_first_120_characters_of_the_line(tmp_path: Path, mini: Genome) -> None:
    line = record("chr22", 5, "A", "G") + ";" + "X" * 300
    report = validate(tmp_path, mini, line)
    assert report.issues[0].text == line[:120]


def test_issues_come_in_line_order(tmp_path: Path, mini: Genome) -> None:
    line = snv(mini, "I", 50)
    report = validate(
        tmp_path, mini, line, "I 5 . A G . . .", line, record("I", 0, "A", "G"), "chr9\t5"
    )
    assert [issue.line for issue in report.issues] == [4, 5, 6, 7]


def test_counts_reasons_and_warnings_summarise_a_mostly_bad_file(
    tmp_path: Path, mini: Genome
) -> None:
    base = ref(mini, "I", 100)
    records = [record("I", pos, other(ref(mini, "I", pos)), "A") for pos in range(10, 15)]
    report = validate(tmp_path, mini, *records, record("I", 100, base, f"{other(base)},<DEL>"))
    assert report.records_read == 6
    assert report.counts() == {"accepted": 1, "skipped": 1, "rejected": 5}
    assert report.reasons() == {"REF mismatch": 5, "symbolic allele": 1}
    assert report.warnings() == [
        "Most alleles were rejected (5 of 7), most often for 'REF mismatch': "
        "is the VCF for another genome assembly?"
    ]


def test_a_header_only_file_is_an_empty_report_not_an_error(tmp_path: Path, mini: Genome) -> None:
    report = validate(tmp_path, mini)
    assert (report.accepted, report.issues, report.records_read) == ([], [], 0)
    assert report.warnings() == ["The file has a header but no variant records."]


def test_progress_reports_bytes_read_and_the_total(tmp_path: Path, mini: Genome) -> None:
    calls: list[tuple[int, int]] = []
    records = [snv(mini, "I", pos) for pos in range(1, 5001)] * 5
    path = tmp_path / "many.vcf.gz"
    path.write_bytes(gzip.compress((HEADER + "\n".join(records) + "\n").encode()))
    validate_vcf(path, mini, progress=lambda done, total: calls.append((done, total)))
    total = path.stat().st_size
    assert len(calls) >= 3 and {t for _, t in calls} == {total}
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (total, total)


def test_a_malformed_info_or_qual_costs_no_variant(tmp_path: Path, mini: Genome) -> None:
    # Intake reads CHROM, POS, ID, REF and ALT only; the rest of a line is passed over.
    base = ref(mini, "I", 100)
    odd = f"I\t100\trs1\t{base}\t{other(base)}\tnot-a-number\t;;\t=;=;\x7f"
    report = validate(tmp_path, mini, odd)
    assert [(v.start, v.ident) for v in report.accepted] == [(99, "rs1")]
    assert report.issues == []


def test_lines_split_across_read_blocks_keep_their_numbers(
    tmp_path: Path, mini: Genome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vcf_text, "_BLOCK_BYTES", 7)  # every line spans several blocks
    records = [snv(mini, "I", pos) for pos in (10, 20, 30)] + ["I\tabc\t.\tA\tG\t.\t.\t."]
    report = validate(tmp_path, mini, *records)
    first = HEADER_LINES + 1
    assert [v.line for v in report.accepted] == [first, first + 1, first + 2]
    assert [(i.line, i.reason) for i in report.issues] == [(first + 3, "bad POS")]


def test_it_refuses_a_file_with_no_chrom_line(tmp_path: Path, mini: Genome) -> None:
    path = tmp_path / "upload.vcf"
    path.write_text("##fileformat=VCFv4.2\n##source=x\n")
    with pytest.raises(VcfFileError, match="no '#CHROM' header line"):
        validate_vcf(path, mini)


def test_limits_are_per_call(tmp_path: Path, mini: Genome) -> None:
    records = [snv(mini, "I", pos) for pos in range(1, 4)]
    with pytest.raises(VcfFileError, match="more than 2 records"):
        validate(tmp_path, mini, *records, limits=VcfLimits(max_records=2))
    assert len(validate(tmp_path, mini, *records, limits=VcfLimits(max_records=3)).accepted) == 3


def test_the_normalized_vcf_is_indexed_and_fetchable(
    tmp_path: Path, mini: Genome, out_dir: Path
) -> None:
    report = validate(
        tmp_path, mini, snv(mini, "II", 5), "chr" + snv(mini, "I", 100, "rs1"), snv(mini, "I", 7)
    )
    out = write_normalized_vcf(report, mini, out_dir / "normalized.vcf.gz")
    assert out == out_dir / "normalized.vcf.gz"
    assert Path(f"{out}.tbi").exists()
    with pysam.VariantFile(str(out)) as normalized:
        assert dict(normalized.header.contigs.items()).keys() == {"I", "II"}
        assert normalized.header.contigs["I"].length == 6000
        (rec,) = normalized.fetch("I", 99, 100)  # 0-based, half-open, as pysam fetches
        assert (rec.chrom, rec.pos, rec.id, rec.ref) == ("I", 100, "rs1", report.accepted[1].ref)
        assert dict(rec.info) == {} and rec.qual is None
        assert [r.pos for r in normalized.fetch("I")] == [7, 100]
        assert [r.pos for r in normalized.fetch("II")] == [5]


def test_the_normalized_vcf_replaces_atomically_and_leaves_no_temp_files(
    tmp_path: Path, mini: Genome, out_dir: Path
) -> None:
    out = out_dir / "normalized.vcf.gz"
    out.write_text("old")
    write_normalized_vcf(validate(tmp_path, mini, snv(mini, "I", 3)), mini, out)
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name, f"{out.name}.tbi"]
    with pysam.VariantFile(str(out)) as normalized:
        assert [r.pos for r in normalized] == [3]


def test_an_empty_report_makes_a_header_only_vcf(
    tmp_path: Path, mini: Genome, out_dir: Path
) -> None:
    out = write_normalized_vcf(validate(tmp_path, mini), mini, out_dir / "empty.vcf.gz")
    with pysam.VariantFile(str(out)) as normalized:
        assert list(normalized.fetch("I")) == []


def test_the_normalized_vcf_must_be_named_vcf_gz(
    tmp_path: Path, mini: Genome, out_dir: Path
) -> None:
    with pytest.raises(ValueError, match="must end with .vcf.gz"):
        write_normalized_vcf(VcfReport(), mini, out_dir / "normalized.vcf")


def test_the_issues_tsv_holds_every_issue(tmp_path: Path, mini: Genome, out_dir: Path) -> None:
    report = validate(tmp_path, mini, "I 5 . A G . . .", record("chr9", 5, "A", "G"))
    out = write_issues_tsv(report, out_dir / "issues.tsv")
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    assert rows[0] == ["line", "status", "reason", "detail", "text"]
    assert rows[1][:3] == ["3", "rejected", "not tab-separated"]
    assert rows[2][:3] == ["4", "rejected", "unknown contig"]
    assert rows[2][4] == record("chr9", 5, "A", "G")  # tabs inside the text survive quoting
    assert sorted(p.name for p in out.parent.iterdir()) == ["issues.tsv"]


def test_variant_end_follows_the_ref_length() -> None:
    assert Variant("I", 99, "ACG", "A", "", 3).end == 102


def homopolymer(genome: Genome, chrom: str, length: int = 4) -> tuple[int, str]:
    """1-based POS of the first base of a run of ``length`` equal bases, and the base before."""
    text = genome.fetch(Interval(chrom, 0, genome.contig_lengths[chrom]))
    for i in range(1, len(text) - length):
        run = text[i : i + length]
        if run == run[0] * length and text[i - 1] != run[0] and text[i + length] != run[0]:
            return i + 1, text[i - 1]
    raise AssertionError("no run")


def test_one_deletion_written_three_ways_is_one_left_aligned_allele(tmp_path, mini, out_dir):
    pos, before = homopolymer(mini, "I")  # run at pos … pos + 3, `before` at pos − 1
    base = ref(mini, "I", pos)
    after = ref(mini, "I", pos + 4)
    report = validate(
        tmp_path,
        mini,
        record("I", pos - 1, before + base, before, "left"),  # already left-aligned
        record("I", pos + 2, base + base, base, "inside"),
        record("I", pos + 3, base + after, after, "right"),  # right-anchored
    )
    (kept,) = report.accepted
    assert (kept.start, kept.ref, kept.alt, kept.ident, kept.written) == (
        pos - 2,
        before + base,
        before,
        "left",
        "",
    )
    duplicates = [issue for issue in report.issues if issue.reason == "duplicate"]
    assert [issue.line for issue in duplicates] == [HEADER_LINES + 2, HEADER_LINES + 3]
    assert f"same variant as line {HEADER_LINES + 1} once left-aligned" in duplicates[0].detail


def test_the_normalized_vcf_keeps_the_written_allele_in_info(tmp_path, mini, out_dir):
    pos, before = homopolymer(mini, "I")
    base = ref(mini, "I", pos)
    report = validate(tmp_path, mini, record("I", pos + 2, base + base, base, "inside"))
    out = write_normalized_vcf(report, mini, out_dir / "normalized.vcf.gz")
    with pysam.VariantFile(str(out)) as normalized:
        assert "OLD_VARIANT" in normalized.header.info
        assert any("bcftools norm" in str(r) for r in normalized.header.records)
        (rec,) = list(normalized)
    assert (rec.pos, rec.ref, rec.alts) == (pos - 1, before + base, (before,))
    assert rec.info["OLD_VARIANT"] == f"I:{pos + 2}:{base}{base}:{base}"
