"""The variant effect engine: on a hand-set counting model (expectations worked out on paper)
and on the tiny random YeastNet (the engine must equal the per-variant recomputation)."""

import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.io.annotation import Exon, Gene, read_genes
from engine.io.encoding import reverse_complement
from engine.io.fasta import Genome
from engine.io.intervals import Interval
from engine.io.vcf import Variant, validate_vcf
from engine.models.base import EXONS, GeneRegion
from engine.models.ensemble import Ensemble
from engine.models.yeast import YeastAdapter
from engine.variants.effects import (
    default_window_step,
    naive_score_variants,
    score_variants,
    window_start,
)
from tests.engine.hand_models import CountingModel

DATA = Path(__file__).parents[2] / "data"
ALL = ["SUM", "logSUM", "logSED", "D1", "D2", "logD1", "logD2", "SAX", "JS"]
log2 = math.log2


def write_genome(path: Path, contigs: dict[str, str]) -> Genome:
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in contigs.items()))
    return Genome(path)


def random_dna(length: int, seed: int) -> str:
    return "".join(random.Random(seed).choices("ACGT", k=length))


def snv(genome: Genome, chrom: str, start: int, alt: str, ident: str = "") -> Variant:
    ref = genome.fetch(Interval(chrom, start, start + 1))
    return Variant(chrom, start, ref, alt, ident, 0)


@pytest.fixture
def repeat_genome(tmp_path) -> Genome:
    """One contig of ACGT repeated: every 16 bp bin holds 4 A, 4 C, 4 G, 4 T."""
    return write_genome(tmp_path / "repeat.fa", {"T": "ACGT" * 256})


@pytest.fixture
def counting() -> CountingModel:
    return CountingModel()


def test_an_snv_scores_as_worked_out_on_paper(repeat_genome, counting):
    # Position 500 is an A (500 % 4 == 0). Tiles are 48 bp (a quarter of the 192 bp output):
    # 500 is in tile [480, 528), whose window is [376, 632) with output [408, 600), 12 bins.
    variant = snv(repeat_genome, "T", 500, "C")
    assert variant.ref == "A" and default_window_step(counting) == 48
    assert window_start(500, 256, 48) == 376
    result = score_variants(Ensemble([counting]), repeat_genome, [variant], scorers=ALL)
    scores = dict(zip(ALL, result.scores[0].T, strict=True))  # name -> (4 tracks,)
    # gc: R = 8 in each of 12 bins (ΣR = 96); A = 9 in the variant's bin (ΣA = 97).
    # a (unstranded, so the mean of two passes' scores, Calico's order): the forward pass counts
    # A (R = 4 per bin, A = 3 in the variant's bin), the reverse complement counts T (no change).
    # a.plus counts A: −1. a.minus counts T: 0.
    np.testing.assert_allclose(scores["SUM"], [1, -0.5, -1, 0])
    np.testing.assert_allclose(result.ref_sum[0], [96, 48, 48, 48])
    np.testing.assert_allclose(result.alt_sum[0], [97, 47.5, 47, 48])
    np.testing.assert_allclose(
        scores["logSUM"], [log2(10 / 9), log2(4 / 5) / 2, log2(4 / 5), 0], rtol=1e-5
    )
    np.testing.assert_allclose(
        scores["logSED"][:3], [log2(98 / 97), log2(48 / 49) / 2, log2(48 / 49)], rtol=1e-5
    )
    np.testing.assert_allclose(scores["D1"], [1, 0.5, 1, 0])
    np.testing.assert_allclose(scores["D2"], [1, 0.5, 1, 0])
    np.testing.assert_allclose(
        scores["logD2"], [log2(10 / 9), log2(5 / 4) / 2, log2(5 / 4), 0], rtol=1e-5
    )
    np.testing.assert_allclose(scores["SAX"], [1, -0.5, -1, 0])
    # JS on gc: pseudocount 8, so p = 16 / 192 in every bin, q = 16 / 193 and 17 / 193 once.
    p, q, q_variant = 16 / 192, 16 / 193, 17 / 193
    js = (11 * (p - q) * math.log(p / q) + (p - q_variant) * math.log(p / q_variant)) / 2
    assert scores["JS"][0] == pytest.approx(js, rel=1e-4)
    assert scores["JS"][3] == 0


def gene(gene_id: str, chrom: str, strand: str, exons: list[tuple[int, int]]) -> Gene:
    spans = tuple(Exon(s, e) for s, e in exons)
    return Gene(gene_id, gene_id.lower(), chrom, spans[0].start, spans[-1].end, strand, "", spans)


def test_gene_scores_cover_exon_bins_on_matching_strands(repeat_genome, counting):
    # Output [408, 600): exon [488, 520) is bins 5 … 7 (the variant, at 500, is in bin 5);
    # exon [424, 456) is bins 1 … 3.
    genes = [
        gene("PLUS", "T", "+", [(488, 520)]),
        gene("MINUS", "T", "-", [(424, 456)]),
        gene("FAR", "T", "+", [(900, 1000)]),  # outside the window: not reported
    ]
    result = score_variants(
        Ensemble([counting], reverse_complement=False),
        repeat_genome,
        [snv(repeat_genome, "T", 500, "C")],
        scorers=["SUM"],
        genes=genes,
    )
    found = result.gene_scores
    rows = {
        (result.genes[g].gene_id, t): (s, ls)
        for g, t, s, ls in zip(found.gene, found.track, found.sed, found.log_sed, strict=True)
    }
    assert set(found.variant) == {0}
    # PLUS on gc, a (unstranded) and a.plus; MINUS on gc, a and a.minus.
    assert set(rows) == {
        ("PLUS", 0),
        ("PLUS", 1),
        ("PLUS", 2),
        ("MINUS", 0),
        ("MINUS", 1),
        ("MINUS", 3),
    }
    # Two bins of PLUS: gc ΣR = 16, ΣA = 17; a and a.plus ΣR = 8, ΣA = 7 (no RC here).
    assert rows["PLUS", 0] == pytest.approx((1, log2(18 / 17)))
    assert rows["PLUS", 2] == pytest.approx((-1, log2(8 / 9)))
    assert rows["MINUS", 0] == (0, 0) and rows["MINUS", 3] == (0, 0)


@pytest.fixture
def tiny_model(tiny_yeast_dir) -> Ensemble:
    """The tiny random YeastNet (an SNV moves its bins by ~0.02), RC on."""
    return Ensemble([YeastAdapter(tiny_yeast_dir)], reverse_complement=True)


@pytest.fixture
def mini_genome() -> Genome:
    return Genome(DATA / "mini.fa.gz")


def mini_snvs(genome: Genome) -> list[Variant]:
    """Clustered SNVs (several per tile), two at one position, and some at the contig ends."""
    rng = random.Random(3)
    starts = [("I", s) for s in (0, 4, 5990, 5999)] + [("II", s) for s in (2, 3995)]
    # I:2300 lies between two genes' starts (PAU8 − at 2168, YAL067W-A + at 2479)
    for chrom, centre in (("I", 1000), ("I", 1300), ("I", 2300), ("I", 4100), ("II", 2000)):
        starts += [(chrom, centre + rng.randrange(-150, 150)) for _ in range(5)]
    variants = []
    for i, (chrom, start) in enumerate(starts):
        ref = genome.fetch(Interval(chrom, start, start + 1))
        alt = rng.choice([b for b in "ACGT" if b != ref])
        variants.append(Variant(chrom, start, ref, alt, f"v{i}", 0))
    other = next(b for b in "ACGT" if b not in (variants[6].ref, variants[6].alt))
    variants.append(Variant(variants[6].chrom, variants[6].start, variants[6].ref, other, "", 0))
    random.Random(5).shuffle(variants)  # input order is not sorted
    return variants


def assert_same_scores(engine, naive, tolerance=1e-5):
    np.testing.assert_allclose(engine.scores, naive.scores, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(engine.ref_sum, naive.ref_sum, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(engine.alt_sum, naive.alt_sum, rtol=tolerance, atol=tolerance)
    for field in ("variant", "gene", "track"):
        assert np.array_equal(getattr(engine.gene_scores, field), getattr(naive.gene_scores, field))
    np.testing.assert_allclose(engine.spread, naive.spread, rtol=tolerance, atol=tolerance)
    for field in ("sed", "log_sed", "log_sed_spread"):
        np.testing.assert_allclose(
            getattr(engine.gene_scores, field),
            getattr(naive.gene_scores, field),
            rtol=tolerance,
            atol=tolerance,
        )


@pytest.mark.parametrize("region", [EXONS, GeneRegion(300, 50)], ids=["exons", "start window"])
def test_shared_reference_scoring_equals_per_variant_recomputation_for_snvs(
    tiny_model, mini_genome, region
):
    tiny_model.gene_region = region
    variants = mini_snvs(mini_genome)
    genes = read_genes(DATA / "mini.gff3")
    step = default_window_step(tiny_model)
    engine = score_variants(
        tiny_model, mini_genome, variants, scorers=ALL, genes=genes, batch_size=4
    )
    naive = naive_score_variants(
        tiny_model, mini_genome, variants, scorers=ALL, genes=genes, window_step=step
    )
    assert engine.variants == variants and not engine.unscored
    assert np.isfinite(engine.scores).all()
    assert np.abs(engine.scores[:, :, ALL.index("SUM")]).max() > 1e-2  # far above tolerance
    assert len(engine.gene_scores.sed) > 0
    assert_same_scores(engine, naive)


def test_the_engine_predicts_fewer_sequences_than_the_naive_version(mini_genome, counting):
    variants = [snv(mini_genome, "I", s, "N") for s in range(960, 1000, 4)]  # one tile
    score_variants(
        Ensemble([counting], reverse_complement=False),
        mini_genome,
        variants,
        scorers=["SUM"],
        batch_size=16,
    )
    engine = sum(shape[0] for shape in counting.shapes)
    counting.shapes.clear()
    naive_score_variants(
        Ensemble([counting], reverse_complement=False), mini_genome, variants, scorers=["SUM"]
    )
    assert engine == 10 + 1  # one pass per allele plus the shared reference
    assert sum(shape[0] for shape in counting.shapes) == 2 * 10


def test_forward_passes_are_full_references_and_indels_included(mini_genome, counting):
    # One tile: its reference, 9 SNVs and a deletion (two anchorings) are 12 sequences, three
    # full batches of 4; batches of alleles with the reference apart ran 1, 4, 4, 2 + 1.
    ref = mini_genome.fetch(Interval("I", 980, 982))
    deletion = Variant("I", 980, ref, ref[0], "", 0)
    snvs = [snv(mini_genome, "I", s, "N") for s in range(960, 1000, 4) if s != 980]
    scores = score_variants(
        Ensemble([counting], reverse_complement=False),
        mini_genome,
        [*snvs, deletion],
        scorers=["SUM"],
        batch_size=4,
    )
    assert [shape[0] for shape in counting.shapes] == [4, 4, 4]
    assert not np.isnan(scores.scores).any()


class ScaledCountingModel(CountingModel):
    """``CountingModel`` times ``factor``: a replicate that disagrees by a known amount."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def predict(self, onehot, tracks=None):
        return super().predict(onehot, tracks) * self.factor


def test_replicates_are_scored_one_by_one_and_their_spread_kept(repeat_genome, counting):
    variant = snv(repeat_genome, "T", 500, "C")  # gc: +1 count in one bin (see above)
    replicates = [counting, ScaledCountingModel(3.0)]
    result = score_variants(
        Ensemble(replicates, reverse_complement=False), repeat_genome, [variant], scorers=ALL
    )
    gc = ALL.index("SUM"), ALL.index("logSED")
    assert result.replicates == 2
    # SUM: 1 and 3, mean 2, sample standard deviation √2.
    assert result.scores[0, 0, gc[0]] == pytest.approx(2)
    assert result.spread[0, 0, gc[0]] == pytest.approx(math.sqrt(2))
    # logSED: the mean of each replicate's own logSED, not the logSED of the mean prediction.
    each = [log2(98 / 97), log2((3 * 97 + 1) / (3 * 96 + 1))]
    assert result.scores[0, 0, gc[1]] == pytest.approx(np.mean(each), rel=1e-5)
    assert result.spread[0, 0, gc[1]] == pytest.approx(np.std(each, ddof=1), rel=1e-4)


def test_one_replicate_has_no_spread(repeat_genome, counting):
    result = score_variants(
        Ensemble([counting]), repeat_genome, [snv(repeat_genome, "T", 500, "C")], scorers=ALL
    )
    assert result.replicates == 1
    assert np.isnan(result.spread).all() and np.isfinite(result.scores).all()


def test_replicate_spread_of_the_engine_equals_the_per_variant_recomputation(
    tiny_yeast_dir, mini_genome
):
    second = YeastAdapter(tiny_yeast_dir)
    with torch.no_grad():
        for parameter in second.model.parameters():
            parameter.mul_(1.1)
    model = Ensemble([YeastAdapter(tiny_yeast_dir), second], reverse_complement=True)
    variants = mini_snvs(mini_genome)[:10] + indels(mini_genome, "I", 1200, sizes=(3,))
    genes = read_genes(DATA / "mini.gff3")
    engine = score_variants(model, mini_genome, variants, scorers=ALL, genes=genes, batch_size=4)
    naive = naive_score_variants(
        model,
        mini_genome,
        variants,
        scorers=ALL,
        genes=genes,
        window_step=default_window_step(model),
    )
    assert np.nanmin(engine.spread) >= 0 and np.nanmax(engine.spread[..., 0]) > 1e-3
    assert np.isfinite(engine.gene_scores.log_sed_spread).any()
    assert_same_scores(engine, naive)


def indels(genome: Genome, chrom: str, start: int, sizes=(1, 3, 10, 40)) -> list[Variant]:
    """An insertion and a deletion of each size at ``start`` (VCF style, with an anchor base)."""
    anchor = genome.fetch(Interval(chrom, start, start + 1))
    found = []
    for size in sizes:
        inserted = random_dna(size, size).replace("A", "G")
        found.append(Variant(chrom, start, anchor, anchor + inserted, f"ins{size}", 0))
        deleted = genome.fetch(Interval(chrom, start, start + 1 + size))
        found.append(Variant(chrom, start, deleted, anchor, f"del{size}", 0))
    return found


def mnvs(genome: Genome, places: list[tuple[str, int, int]]) -> list[Variant]:
    """A substitution of ``width`` bases (every base changed) at each (chrom, start, width)."""
    found = []
    for chrom, start, width in places:
        ref = genome.fetch(Interval(chrom, start, start + width))
        alt = ref.translate(str.maketrans("ACGT", "CGTA"))
        found.append(Variant(chrom, start, ref, alt, f"mnv{width}", 0))
    return found


def test_indels_equal_the_per_variant_recomputation(tiny_model, mini_genome):
    variants = indels(mini_genome, "I", 1200) + indels(mini_genome, "II", 3985, sizes=(3, 10))
    variants += mini_snvs(mini_genome)[:6]  # SNVs and indels in one batch
    variants += mnvs(mini_genome, [("I", 1210, 2), ("I", 1190, 5), ("II", 3996, 4)])
    engine = score_variants(tiny_model, mini_genome, variants, scorers=ALL, batch_size=5)
    naive = naive_score_variants(
        tiny_model, mini_genome, variants, scorers=ALL, window_step=default_window_step(tiny_model)
    )
    assert np.isfinite(engine.scores).all()
    assert np.abs(engine.scores[:, :, ALL.index("SUM")]).max() > 1e-2
    assert_same_scores(engine, naive)


def test_substitutions_take_the_fast_path_and_indels_whole_windows(tiny_yeast_dir, mini_genome):
    adapter = YeastAdapter(tiny_yeast_dir)
    whole_windows = []
    predict = adapter.predict
    adapter.predict = lambda x, tracks=None: whole_windows.append(len(x)) or predict(x, tracks)
    variants = mini_snvs(mini_genome)[:8] + mnvs(mini_genome, [("I", 1210, 3)])
    variants += indels(mini_genome, "I", 1200, sizes=(2, 6))  # four indels
    model = Ensemble([adapter], reverse_complement=True)
    scores = score_variants(model, mini_genome, variants, scorers=["SUM"], batch_size=4)
    assert np.isfinite(scores.scores).all()
    assert sum(whole_windows) == 4 * 2 * 2  # indels only: left + right anchored, × RC


@pytest.mark.parametrize("size", [1, 3, 10, 40])
def test_indels_keep_the_window_length_and_leave_far_bins_unchanged(tmp_path, counting, size):
    genome = write_genome(tmp_path / "random.fa", {"R": random_dna(1024, 7)})
    # Tile [480, 528), window [376, 632), output [408, 600): the variant at 500 is in bin 5.
    start = 500
    variants = [v for v in indels(genome, "R", start, sizes=(size,))]
    last_ref_bin = (start + size - 408) // 16  # bin of the deletion's last REF base
    genes = [
        gene("LEFT", "R", "+", [(408, 488)]),  # bins 0 … 4: left of the variant's bin
        gene("RIGHT", "R", "+", [(408 + 16 * (last_ref_bin + 1), 600)]),  # right of the change
    ]
    result = score_variants(Ensemble([counting]), genome, variants, scorers=ALL, genes=genes)
    assert set(counting.shapes) <= {(n, 256, 4) for n in range(1, 17)}  # every pass is 256 bp
    assert np.isfinite(result.scores).all()
    assert len(result.gene_scores.sed) == 2 * 2 * 3  # 2 alleles × 2 genes × 3 matched tracks
    assert (result.gene_scores.sed == 0).all()  # alt − ref is exactly 0 away from the indel


def test_a_multiallelic_record_yields_one_result_per_allele(tmp_path, repeat_genome, counting):
    vcf = tmp_path / "multi.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=T,length=1024>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "T\t501\tm1\tA\tC,G,T\t.\t.\t.\n"
    )
    report = validate_vcf(vcf, repeat_genome)
    assert [v.alt for v in report.accepted] == ["C", "G", "T"]
    result = score_variants(
        Ensemble([counting], reverse_complement=False),
        repeat_genome,
        report.accepted,
        scorers=["SUM"],
    )
    assert result.scores.shape == (3, 4, 1)
    assert result.scores[:, 0, 0].tolist() == [1, 1, 0]  # gc: A→C, A→G, A→T
    assert result.scores[:, 2, 0].tolist() == [-1, -1, -1]  # a.plus loses its A each time


@pytest.mark.parametrize("start", [5, 1024 - 6])
def test_a_variant_5_bp_from_a_contig_end_is_padded_and_scored(repeat_genome, counting, start):
    variant = snv(repeat_genome, "T", start, "G" if start % 4 == 1 else "C")  # C→G or G→C
    result = score_variants(Ensemble([counting]), repeat_genome, [variant], scorers=ALL)
    assert np.isfinite(result.scores).all() and not result.unscored
    gc = result.scores[0, 0]
    assert gc[ALL.index("SUM")] == 0 and gc[ALL.index("D1")] == 0  # C↔G keeps the GC count
    # The window runs off the contig: padded with N (counting nothing), not shifted or clipped.
    first = window_start(start, 256, 48) + 32
    on_contig = min(first + 192, 1024) - max(first, 0)
    assert result.ref_sum[0, 0] == on_contig // 2


@pytest.fixture
def mirrored(tmp_path) -> Genome:
    """A random contig and its reverse complement, both 960 bp (20 tiles of 48 bp), so the
    windows of a variant and of its mirror image cover mirror-image stretches."""
    forward = random_dna(960, 11)
    return write_genome(tmp_path / "mirror.fa", {"F": forward, "R": reverse_complement(forward)})


def mirror_pair(genome: Genome) -> tuple[Variant, Variant]:
    start = next(i for i in range(470, 960) if genome.fetch(Interval("F", i, i + 1)) == "A")
    forward = Variant("F", start, "A", "C", "", 0)
    return forward, Variant("R", 960 - 1 - start, "T", "G", "", 0)


def test_rc_averaging_of_an_unstranded_track_is_strand_symmetric(mirrored, counting):
    forward, mirror = mirror_pair(mirrored)
    result = score_variants(Ensemble([counting]), mirrored, [forward, mirror], scorers=ALL)
    np.testing.assert_allclose(result.scores[0, 1], result.scores[1, 1], rtol=1e-6)  # track a
    np.testing.assert_allclose(result.scores[0, 0], result.scores[1, 0], rtol=1e-6)  # gc
    # Stranded tracks swap: a.plus of the forward case is a.minus of the mirror image.
    np.testing.assert_allclose(result.scores[0, 2], result.scores[1, 3], rtol=1e-6)
    assert result.scores[0, 1, ALL.index("SUM")] == -0.5


def test_without_rc_the_same_unstranded_track_is_not_symmetric(mirrored, counting):
    forward, mirror = mirror_pair(mirrored)
    result = score_variants(
        Ensemble([counting], reverse_complement=False), mirrored, [forward, mirror], scorers=["SUM"]
    )
    assert result.scores[:, 1, 0].tolist() == [-1, 0]  # counts A: lost one vs T→G: none


def test_an_allele_too_long_for_the_window_is_left_unscored(repeat_genome, counting):
    long_deletion = Variant("T", 500, repeat_genome.fetch(Interval("T", 500, 600)), "A", "", 0)
    result = score_variants(
        Ensemble([counting]),
        repeat_genome,
        [long_deletion, snv(repeat_genome, "T", 504, "C")],
        scorers=["SUM"],
    )
    assert result.unscored == [0]
    assert np.isnan(result.scores[0]).all() and result.scores[1, 0, 0] == 1


def test_it_reports_progress_and_scores_a_chosen_track_subset(repeat_genome, counting):
    calls = []
    variants = [snv(repeat_genome, "T", s, "C") for s in (100, 104, 600, 900)]
    result = score_variants(
        Ensemble([counting]),
        repeat_genome,
        variants,
        scorers=["SUM"],
        tracks=[2],
        batch_size=2,
        progress=lambda *a: calls.append(a),
    )
    assert calls[-1] == (4, 4) and len(calls) >= 2
    assert result.tracks == [2] and result.scores.shape == (4, 1, 1)
    assert result.scores[:, 0, 0].tolist() == [-1, -1, -1, -1]


def test_progress_moves_batch_by_batch_inside_one_dense_window(repeat_genome, counting):
    # 40 SNVs in one 48 bp tile: a single chunk, which used to be reported only once, at the end.
    calls = []
    variants = [snv(repeat_genome, "T", s, "C") for s in range(480, 520)]
    batch_size = 4
    score_variants(
        Ensemble([counting], reverse_complement=True),
        repeat_genome,
        variants,
        scorers=["SUM"],
        batch_size=batch_size,
        progress=lambda *a: calls.append(a),
    )
    done = [d for d, total in calls]
    assert calls[0] == (0, 40) and calls[-1] == (40, 40)  # the start, then the end
    assert done == sorted(done) and all(total == 40 for _, total in calls)
    between = set(done) - {0, 40}
    assert len(between) >= 40 // batch_size - 1  # a step per batch (per pass), not one in all
    assert max(b - a for a, b in zip(done, done[1:], strict=False)) <= batch_size


def test_unknown_scorers_are_refused(repeat_genome, counting):
    with pytest.raises(ValueError, match="unknown scorers: NOPE"):
        score_variants(counting, repeat_genome, [], scorers=["SUM", "NOPE"])


def test_equivalent_spellings_of_an_indel_score_identically(tmp_path, tiny_model, mini_genome):
    """A deletion and an insertion in a homopolymer, each written left- and right-anchored."""
    text = mini_genome.fetch(Interval("I", 1000, 2000))
    run = next(
        i
        for i in range(1, 990)
        if len(set(text[i : i + 4])) == 1 and text[i] not in (text[i - 1], text[i + 4])
    )
    pos = 1000 + run + 1  # 1-based first base of the run
    base, before = text[run], text[run - 1]
    spellings = {
        "left": [(pos - 1, before + base, before), (pos - 1, before, before + base)],
        "right": [(pos + 2, base + base, base), (pos + 3, base, base + base)],
    }
    scores = {}
    for name, records in spellings.items():
        path = tmp_path / f"{name}.vcf"
        body = "".join(f"I\t{p}\t.\t{r}\t{a}\t.\t.\t.\n" for p, r, a in records)
        path.write_text(
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + body
        )
        variants = validate_vcf(path, mini_genome).accepted
        scores[name] = score_variants(tiny_model, mini_genome, variants, scorers=ALL)
    left, right = scores["left"], scores["right"]
    assert [(v.start, v.ref, v.alt) for v in left.variants] == [
        (v.start, v.ref, v.alt) for v in right.variants
    ]
    assert all(v.written for v in right.variants) and not any(v.written for v in left.variants)
    assert np.abs(left.scores[:, :, ALL.index("SUM")]).max() > 1e-3
    np.testing.assert_array_equal(left.scores, right.scores)
