"""A finished scoring job with hand-set rows to search: IDs, rsIDs, two alleles at one
position, an indel, genes scored near some of them, and one allele left unscored."""

import pytest

from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import GeneEffect, Variant, VariantEffect

# (chrom, 0-based start, ref, alt, ID, signed primary score, gene scored near it)
SEARCHABLE = [
    ("I", 99, "A", "G", "rs1234", 0.5, None),
    ("I", 1799, "C", "T", "PAU8_up8", -0.2, ("YAL068C", "PAU8")),  # 8 bp before PAU8
    ("I", 2999, "G", "A", "", 0.1, None),
    ("II", 299, "T", "C", "GAL10_up40", -0.9, ("YBL113C", "YBL113C")),
    ("II", 299, "T", "G", "rs55;other_id", 0.3, None),
    ("II", 1499, "ACG", "A", "", None, None),
]


@pytest.fixture
def search_job(variant_set, alice):
    """A succeeded scoring job of ``variant_set`` (on the mini genome: contigs I and II, alias
    chrI and chrII) over the SEARCHABLE alleles, in their order."""
    job = Job.objects.create(
        workspace=variant_set.workspace,
        created_by=alice,
        kind=JobKind.SCORE_VARIANTS,
        status=JobStatus.SUCCEEDED,
        params={
            "variant_set": str(variant_set.code),
            "model": "tiny",
            "tracks": ["t1"],
            "scorers": ["logSED", "D2"],
            "reverse_complement": True,
            "shifts": [0],
            "replicates": 1,
            "genes": True,
        },
    )
    variant_set.variants.all().delete()  # the fixture's one variant
    for index, (chrom, start, ref, alt, ident, score, gene) in enumerate(SEARCHABLE):
        variant = Variant.objects.create(
            variant_set=variant_set,
            index=index,
            chrom=chrom,
            start=start,
            ref=ref,
            alt=alt,
            ident=ident,
            line=index + 3,
        )
        VariantEffect.objects.create(
            job=job,
            variant=variant,
            primary=score,
            max_abs=None if score is None else abs(score),
            top_track="t1",
            scorer_max={} if score is None else {"logSED": score, "D2": -2 * score},
        )
        if gene:
            GeneEffect.objects.create(
                job=job,
                variant=variant,
                gene_id=gene[0],
                gene_name=gene[1],
                track="t1",
                sed=0,
                log_sed=0,
            )
    return job
