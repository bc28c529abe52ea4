"""Prediction reuse in the engine: stored alleles are taken as they were, the others scored,
and the result is one run's (bit for bit with a model whose arithmetic is exact)."""

import numpy as np
import pytest

from engine.io.annotation import Exon, Gene
from engine.io.vcf import Variant
from engine.pipeline.scoring import score_alleles, score_alleles_checkpointed
from engine.variants.effects import VariantScores
from engine.variants.reuse import (
    AlleleScores,
    Layout,
    StoredAllele,
    allele_key,
    gene_indices,
    pack,
    settings_key,
    unpack,
)
from tests.engine.hand_models import CountingModel

TRACKS = ["gc", "a", "a.plus", "a.minus"]


class MemoryStore:
    """``Reuse`` in a dict, as the worker's database store keeps entries."""

    def __init__(self, tracks: list[int], scorers: list[str], genes: list[Gene]) -> None:
        self.key = settings_key({"model": "counting"})
        self.tracks, self.scorers, self.genes = [TRACKS[t] for t in tracks], scorers, genes
        self.entries: dict[str, StoredAllele] = {}

    def find(self, variants: list[Variant]) -> tuple[dict[int, AlleleScores], int]:
        found = {}
        for i, variant in enumerate(variants):
            stored = self.entries.get(allele_key(self.key, variant))
            if stored is not None and stored.layout.covers(self.tracks, self.scorers):
                found[i] = unpack(stored, self.tracks, self.scorers, gene_indices(self.genes))
        return found, 0

    def keep(self, variants: list[Variant], scores: VariantScores) -> None:
        layout = Layout(tuple(self.tracks), tuple(self.scorers))
        for i, variant in enumerate(variants):
            if i not in scores.unscored:
                self.entries[allele_key(self.key, variant)] = StoredAllele(layout, *pack(scores, i))


@pytest.fixture
def alleles(tmp_path):
    """40 SNVs and 6 indels over 12 kb of random sequence, a too-long deletion, and genes."""
    rng = np.random.default_rng(5)
    sequence = "".join(rng.choice(list("ACGT"), 12_000))
    fasta = tmp_path / "random.fa"
    fasta.write_text(f">T\n{sequence}\n")
    positions = sorted(rng.choice(np.arange(300, 11_700), 47, replace=False).tolist())
    variants = []
    for i, p in enumerate(positions):
        ref = sequence[p]
        if i % 8 == 3:
            variant = Variant("T", p, ref, ref + "GA", f"ins{i}", i + 1)
        elif i % 8 == 6:
            variant = Variant("T", p, sequence[p : p + 3], ref, f"del{i}", i + 1)
        else:
            variant = Variant("T", p, ref, "A" if ref != "A" else "C", f"snv{i}", i + 1)
        variants.append(variant)
    variants.append(Variant("T", 6000, sequence[6000:6200], sequence[6000], "long", 99))
    variants.sort(key=lambda v: v.start)
    genes = [
        Gene("G1", "g1", "T", 1000, 3000, "+", "", (Exon(1000, 1400), Exon(2500, 3000))),
        Gene("G2", "g2", "T", 5000, 9000, "-", "", (Exon(5000, 9000),)),
    ]
    return fasta, variants, genes


SCORING = {"scorers": ["SUM", "logSED", "D2"], "tracks": [0, 2, 3]}


def test_taken_and_scored_alleles_join_into_one_run(alleles, tmp_path):
    fasta, variants, genes = alleles
    whole = score_alleles(CountingModel(), fasta, variants, genes=genes, **SCORING)
    assert whole.scores.unscored and len(whole.scores.gene_scores.variant)
    store = MemoryStore(SCORING["tracks"], SCORING["scorers"], genes)
    store.keep(
        variants[::2],
        score_alleles(CountingModel(), fasta, variants[::2], genes=genes, **SCORING).scores,
    )
    assert len(store.entries) == len(variants[::2]) - 1  # the long deletion is never stored

    model, reported = CountingModel(), []
    joined = score_alleles_checkpointed(
        model,
        fasta,
        variants,
        genes=genes,
        folder=tmp_path / "ck",
        chunk_alleles=10,
        reuse=store,
        progress=lambda done, total: reported.append(done),
        **SCORING,
    )
    for name in ("scores", "spread", "ref_sum", "alt_sum"):
        np.testing.assert_array_equal(getattr(joined.scores, name), getattr(whole.scores, name))
    for name in ("variant", "gene", "track", "sed", "log_sed"):
        np.testing.assert_array_equal(
            getattr(joined.scores.gene_scores, name), getattr(whole.scores.gene_scores, name)
        )
    assert joined.scores.unscored == whole.scores.unscored
    assert joined.reused == len(variants[::2]) - 1
    missing = [v for i, v in enumerate(variants) if i % 2 or v.ident == "long"]
    passes = score_alleles(CountingModel(), fasta, missing, genes=genes, **SCORING).passes
    assert joined.passes == passes < whole.passes
    # each chunk's stored alleles count as done at once: the bar moves before any pass
    assert reported == sorted(reported) and reported[-1] == len(variants)
    scratch = CountingModel()
    score_alleles(scratch, fasta, missing, genes=genes, **SCORING)
    assert model.shapes and sum(n for n, *_ in model.shapes) == sum(n for n, *_ in scratch.shapes)
    # the scored half is stored too: a second run takes every allele
    model = CountingModel()
    again = score_alleles_checkpointed(
        model,
        fasta,
        variants,
        genes=genes,
        folder=tmp_path / "ck2",
        chunk_alleles=10,
        reuse=store,
        **SCORING,
    )
    assert model.shapes == [] and again.reused == len(variants) - 1
    np.testing.assert_array_equal(again.scores.scores, whole.scores.scores)


def test_a_stored_allele_is_sliced_to_fewer_tracks_and_scorers(alleles):
    fasta, variants, genes = alleles
    whole = score_alleles(CountingModel(), fasta, variants, genes=genes, **SCORING).scores
    i = int(whole.gene_scores.variant[0])  # an allele with gene rows
    stored = StoredAllele(
        Layout(("gc", "a.plus", "a.minus"), ("SUM", "logSED", "D2")), *pack(whole, i)
    )
    sliced = unpack(stored, ["a.minus", "gc"], ["D2", "SUM"], gene_indices(genes))
    np.testing.assert_array_equal(sliced.scores, whole.scores[i][[2, 0]][:, [2, 0]])
    np.testing.assert_array_equal(sliced.ref_sum, whole.ref_sum[i][[2, 0]])
    gene = whole.gene_scores
    at = {3: 0, 0: 1}  # model tracks a.minus and gc, in the job's order
    expected = [
        (at[int(t)], sed)
        for v, t, sed in zip(gene.variant, gene.track, gene.sed, strict=True)
        if v == i and t in at
    ]
    assert stored.genes and expected
    assert [(row[1], row[2]) for row in sliced.gene_rows] == expected
    assert not stored.layout.covers(["a"], ["SUM"]) and not stored.layout.covers(["gc"], ["JS"])
    assert unpack(stored, ["gc"], ["SUM"], {}) is None  # a gene the job's annotation lacks


def test_the_key_changes_with_every_setting_and_the_allele():
    base = {"weights": ["a" * 64], "genome": "b" * 64, "shifts": [0], "reverse_complement": True}
    keys = {
        settings_key(base),
        settings_key(base | {"weights": ["c" * 64]}),
        settings_key(base | {"genome": "d" * 64}),
        settings_key(base | {"shifts": [0, 1]}),
        settings_key(base | {"reverse_complement": False}),
    }
    assert len(keys) == 5
    snv = Variant("T", 10, "A", "G", "x", 1)
    assert allele_key(settings_key(base), snv) == allele_key(settings_key(dict(base)), snv)
    others = [
        Variant("T", 11, "A", "G", "x", 1),
        Variant("T", 10, "A", "C", "x", 1),
        Variant("U", 10, "A", "G", "x", 1),
    ]
    assert len({allele_key(settings_key(base), v) for v in [snv, *others]}) == 4
