"""The results table's database work: histogram counts, gene filter, orderings."""

import numpy as np
import pytest

from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import GeneEffect, Variant, VariantEffect
from genomeweb.variants.table import EffectFilters, filter_effects, histogram, sort_effects


@pytest.fixture
def job_with_effects(variant_set, alice):
    """200 alleles with random signed scores (a few unscored) and a gene or two each."""
    rng = np.random.default_rng(4)
    job = Job.objects.create(
        workspace=variant_set.workspace,
        created_by=alice,
        kind=JobKind.SCORE_VARIANTS,
        status=JobStatus.SUCCEEDED,
        params={"scorers": ["logSED"], "tracks": ["t1"]},
    )
    variant_set.variants.all().delete()  # the fixture's one variant
    variants = Variant.objects.bulk_create(
        Variant(
            variant_set=variant_set, index=i, chrom="I", start=10 * i, ref="A", alt="G", line=i + 3
        )
        for i in range(200)
    )
    values = rng.normal(0, 0.3, 200)
    effects = []
    for i, variant in enumerate(variants):
        value = None if i % 50 == 7 else float(values[i])
        effects.append(
            VariantEffect(
                job=job,
                variant=variant,
                max_abs=None if value is None else abs(value),
                primary=value,
                top_gene_name=f"GENE{i % 7}",
            )
        )
    VariantEffect.objects.bulk_create(effects)
    GeneEffect.objects.bulk_create(
        GeneEffect(
            job=job,
            variant=v,
            gene_id=f"Y{i % 5}",
            gene_name=f"gene{i % 5}",
            track="t1",
            sed=0,
            log_sed=0,
        )
        for i, v in enumerate(variants)
    )
    return job


def test_the_histogram_counts_as_numpy_does(job_with_effects):
    drawn = histogram(job_with_effects.variant_effects.all(), bins=30)
    values = [
        v
        for v in job_with_effects.variant_effects.values_list("primary", flat=True)
        if v is not None
    ]
    counts, edges = np.histogram(values, bins=30)
    assert [bar["count"] for bar in drawn["bars"]] == counts.tolist()
    assert drawn["low"] == pytest.approx(edges[0]) and drawn["high"] == pytest.approx(edges[-1])
    assert sum(bar["count"] for bar in drawn["bars"]) == 196  # four unscored left out


def test_a_single_value_fills_the_middle_bin(job_with_effects):
    one = job_with_effects.variant_effects.filter(variant__index=0)
    drawn = histogram(one, bins=30)
    assert [bar["count"] for bar in drawn["bars"]] == np.histogram([0.0], bins=30)[0].tolist()


def test_no_scores_no_histogram(job_with_effects):
    assert histogram(job_with_effects.variant_effects.filter(primary=None)) is None


def test_the_gene_filter_matches_any_scored_gene_by_name_or_id_in_any_case(job_with_effects):
    by_name = filter_effects(job_with_effects.variant_effects.all(), EffectFilters(gene="GENE3"))
    by_id = filter_effects(job_with_effects.variant_effects.all(), EffectFilters(gene="y3"))
    expected = {i for i in range(200) if i % 5 == 3}
    assert {e.variant.index for e in by_name} == expected
    assert {e.variant.index for e in by_id} == expected


@pytest.mark.parametrize("descending", [True, False])
def test_sorting_by_position_follows_the_variant_index(job_with_effects, descending):
    rows = sort_effects(
        job_with_effects.variant_effects.all(),
        EffectFilters(sort="position", descending=descending),
    )
    indices = [e.variant.index for e in rows]
    assert indices == sorted(indices, reverse=descending)


def test_unscored_alleles_sort_last_both_ways(job_with_effects):
    for descending in (True, False):
        effects = filter_effects(job_with_effects.variant_effects.all(), EffectFilters())
        rows = list(sort_effects(effects, EffectFilters(descending=descending)))
        assert all(r.max_abs is None for r in rows[-4:]) and rows[0].max_abs is not None


def test_the_mark_filter_keeps_exactly_the_marked_alleles(job_with_effects, alice):
    from genomeweb.variants.models import Mark

    variants = {e.variant.index: e.variant for e in job_with_effects.variant_effects.all()}
    for index in (3, 50, 199):
        variants[index].set_mark(Mark.FOLLOW_UP, user=alice, on=True)
    variants[4].set_mark(Mark.REVIEWED, user=alice, on=True)
    variants[9].add_note("n", author=alice)
    rows = job_with_effects.variant_effects.all()

    def indices(mark: str) -> set[int]:
        return {e.variant.index for e in filter_effects(rows, EffectFilters(mark=mark))}

    assert indices(Mark.FOLLOW_UP) == {3, 50, 199}
    assert indices("marked") == {3, 4, 50, 199}
    assert indices("note") == {9}
    query = str(filter_effects(rows, EffectFilters(mark=Mark.FOLLOW_UP)).query)
    assert "EXISTS" in query and "variants_variantmark" in query


def test_a_mark_filter_and_its_annotation_version_are_in_the_cache_key():
    plain, marked = EffectFilters(), EffectFilters(mark="interesting")
    assert plain.cache_key("j") == plain.cache_key("j", annotation_version=7)
    assert marked.cache_key("j") != plain.cache_key("j")
    assert marked.cache_key("j", 1) != marked.cache_key("j", 2)
    assert marked.cache_key("j", 1) != EffectFilters(mark="note").cache_key("j", 1)


def test_marks_and_notes_bump_the_sets_annotation_version(job_with_effects, alice):
    variant = job_with_effects.variant_effects.first().variant
    versions = []
    for change in (
        lambda: variant.set_mark("reviewed", user=alice, on=True),
        lambda: variant.add_note("n", author=alice),
        lambda: variant.remove_note(variant.notes.get()),
    ):
        change()
        variant.variant_set.refresh_from_db()
        versions.append(variant.variant_set.annotation_version)
    assert versions == [1, 2, 3]
    assert variant.set_mark("reviewed", user=alice, on=True) is False  # no change, no bump
    variant.variant_set.refresh_from_db()
    assert variant.variant_set.annotation_version == 3
