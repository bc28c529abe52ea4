"""The workspace's variant search: across its variant sets, to each variant's permalink, for
members only."""

import html

import pytest
from django.urls import reverse

from genomeweb.variants.models import Variant, VariantSet
from genomeweb.workspaces.models import Membership, Role, Workspace


def search(client, workspace, q: str, **headers):
    url = reverse("gw-variant-search", kwargs={"code": workspace.code})
    return client.get(url, {"q": q}, **headers)


def found(response) -> set[str]:
    """The permalinks a search page links to."""
    body = response.content.decode()
    return {
        variant.code.hex
        for variant in Variant.objects.all()
        if reverse("gw-variant", kwargs={"code": variant.code}) in body
    }


def permalinks(*variants: Variant) -> set[str]:
    return {variant.code.hex for variant in variants}


def another_set(workspace, genome, name: str) -> VariantSet:
    return VariantSet.objects.create(
        workspace=workspace,
        genome=genome,
        name=name,
        original_filename=f"{name}.vcf",
        stored_name=f"{workspace.code}/{name}.vcf",
        size=1,
    )


@pytest.fixture
def variants(search_job, variant_set, genome):
    """The scored set's variants by ID (or position), and a second set of the workspace with
    a GAL10_up40."""
    by_ident = {v.ident or f"{v.chrom}:{v.pos}": v for v in variant_set.variants.all()}
    second = another_set(variant_set.workspace, genome, "second")
    by_ident["second GAL10_up40"] = Variant.objects.create(
        variant_set=second,
        index=0,
        chrom="II",
        start=299,
        ref="T",
        alt="C",
        ident="GAL10_up40",
        line=3,
    )
    return by_ident


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("GAL10_up40", ["GAL10_up40", "second GAL10_up40"]),
        ("chrII:300 T>C", ["GAL10_up40", "second GAL10_up40"]),
        ("II:300 T>G", ["rs55;other_id"]),
        ("rs1234", ["rs1234"]),
        ("other_id", ["rs55;other_id"]),
        ("chrI:1-1,000", ["rs1234"]),
        ("PAU8", ["PAU8_up8", "I:3000"]),  # a gene: the variants in it and within 1 kb of it
    ],
)
def test_a_member_finds_variants_across_the_workspaces_sets(
    as_user, victor, workspace, variants, q, expected
):
    response = search(as_user(victor), workspace, q)
    assert response.status_code == 200
    assert found(response) == permalinks(*(variants[name] for name in expected))


def test_a_gene_search_names_the_gene_it_used(as_user, victor, workspace, variants):
    body = html.unescape(search(as_user(victor), workspace, "yal068c").content.decode())
    assert "2 variants for “yal068c”, with those in or within 1,000 bp of PAU8" in body


def test_an_outsider_gets_404(as_user, bob, workspace, variants):
    assert search(as_user(bob), workspace, "GAL10_up40").status_code == 404


def test_another_workspaces_variants_are_not_found(
    as_user, bob, victor, workspace, genome, variants
):
    theirs = Workspace.objects.create(name="Bob's lab", created_by=bob)
    Membership.objects.create(workspace=theirs, user=bob, role=Role.OWNER)
    hidden = Variant.objects.create(
        variant_set=another_set(theirs, genome, "bobs"),
        index=0,
        chrom="II",
        start=299,
        ref="T",
        alt="C",
        ident="GAL10_up40",
        line=3,
    )
    mine = found(search(as_user(victor), workspace, "GAL10_up40"))
    assert hidden.code.hex not in mine and len(mine) == 2
    assert found(search(as_user(bob), theirs, "GAL10_up40")) == permalinks(hidden)


@pytest.mark.parametrize(
    ("q", "says"),
    [
        (
            "GAL10_up41",
            "No variant with ID 'GAL10_up41' in this workspace, and no gene is named "
            "'GAL10_up41' in its genomes.",
        ),
        ("II:5,000-6,000", "No allele of this workspace lies in II:5,000-6,000."),
        ("chrII:300 T>A", "No allele II:300 T>A in this workspace (at II:300: T>C, T>G)."),
        ("chrZZ:1-100", "chrZZ is not a contig of mini (contigs: I, II)"),
        (
            "YBL112C",
            "No variant with ID 'YBL112C' in this workspace, and none lies in or within "
            "1,000 bp of the gene YBL112C (II:2,582-2,899).",
        ),
    ],
)
def test_an_empty_search_says_why(as_user, victor, workspace, variants, q, says):
    body = html.unescape(search(as_user(victor), workspace, q).content.decode())
    assert says in body and found_nothing(body)


def found_nothing(body: str) -> bool:
    return "/variants/" not in body.split('id="search-hits"')[1]


def test_htmx_gets_only_the_hits(as_user, victor, workspace, variants):
    response = search(as_user(victor), workspace, "rs1234", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="search-hits">') and "<html" not in body
    assert found(response) == permalinks(variants["rs1234"])


def test_the_workspace_page_has_the_search_box(as_user, victor, workspace, variants):
    page = as_user(victor).get(reverse("gw-workspace", kwargs={"code": workspace.code}))
    action = reverse("gw-variant-search", kwargs={"code": workspace.code})
    assert f'action="{action}"' in page.content.decode() and 'name="q"' in page.content.decode()


def test_a_blank_search_shows_just_the_box(as_user, victor, workspace, variants):
    body = search(as_user(victor), workspace, "   ").content.decode()
    assert 'name="q"' in body and found_nothing(body) and "No variant" not in body


def test_each_set_is_searched_on_its_own_genome(as_user, victor, workspace, variants):
    from genomeweb.catalog.models import Contig, Genome

    other = Genome.objects.create(name="other", fasta_path="other.fa", fasta_sha256="0" * 64)
    Contig.objects.create(genome=other, name="X", length=1_000, aliases=["chrX"], order=0)
    on_x = Variant.objects.create(
        variant_set=another_set(workspace, other, "other"),
        index=0,
        chrom="X",
        start=9,
        ref="A",
        alt="C",
        line=3,
    )
    client = as_user(victor)
    assert found(search(client, workspace, "chrX:1-100")) == permalinks(on_x)
    assert found(search(client, workspace, "chrII:300 T>C")) == permalinks(
        variants["GAL10_up40"], variants["second GAL10_up40"]
    )
    body = html.unescape(search(client, workspace, "chrZZ:1-100").content.decode())
    assert "chrZZ is not a contig of mini" in body and "chrZZ is not a contig of other" in body


def test_a_set_still_being_validated_is_not_searched(as_user, victor, workspace, variants):
    """Its rows may be a part of the file (the embedded SQLite stores them in batches)."""
    from genomeweb.jobs.models import Job, JobKind, JobStatus

    second = variants["second GAL10_up40"].variant_set
    second.validation_job = Job.objects.create(
        workspace=workspace, kind=JobKind.VALIDATE_VCF, status=JobStatus.RUNNING
    )
    second.save()
    response = search(as_user(victor), workspace, "GAL10_up40")
    assert found(response) == permalinks(variants["GAL10_up40"])
