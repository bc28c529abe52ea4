"""Starting a design: a model, then a gene (search as you type) or coordinates."""

from django.urls import reverse

from genomeweb.designs.models import Design


def new_url(workspace) -> str:
    return reverse("gw-design-new", kwargs={"code": workspace.code})


def test_the_page_offers_the_models(as_user, eddie, workspace, predictor):
    response = as_user(eddie).get(new_url(workspace))
    assert response.status_code == 200
    assert b"mini-model" in response.content
    assert b'hx-get="' in response.content


def test_gene_search_returns_matching_genes_as_a_fragment(as_user, eddie, workspace, predictor):
    response = as_user(eddie).get(
        new_url(workspace), {"model": predictor.pk, "gene": "pau"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "PAU8" in html and "YAL068C" in html
    assert "<html" not in html  # only the fragment
    assert "YBL113C" not in html


def test_gene_search_matches_systematic_ids(as_user, eddie, workspace, predictor):
    response = as_user(eddie).get(
        new_url(workspace), {"model": predictor.pk, "gene": "YBL"}, HTTP_HX_REQUEST="true"
    )
    assert "YBL113C" in response.content.decode() and "YBL112C" in response.content.decode()
    assert "PAU8" not in response.content.decode()


def test_gene_search_without_htmx_shows_the_whole_page(as_user, eddie, workspace, predictor):
    response = as_user(eddie).get(new_url(workspace), {"model": predictor.pk, "gene": "PAU"})
    assert b"<html" in response.content and b"PAU8" in response.content


def test_it_says_when_no_gene_matches(as_user, eddie, workspace, predictor):
    response = as_user(eddie).get(
        new_url(workspace), {"model": predictor.pk, "gene": "ZZZ"}, HTTP_HX_REQUEST="true"
    )
    assert "No gene of this model" in response.content.decode()


def test_it_creates_a_design_centred_on_a_minus_strand_tss(as_user, eddie, workspace, predictor):
    response = as_user(eddie).post(new_url(workspace), {"model": predictor.pk, "gene": "pau8"})
    design = Design.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("gw-design", kwargs={"code": design.code})
    # PAU8 is I:1,807-2,169 on the minus strand: its TSS is base 2,169 (0-based 2,168).
    assert (design.chrom, design.start, design.end) == ("I", 2168 - 500, 2168 + 500)
    assert design.name == "PAU8 promoter"
    assert design.genome == predictor.genome and design.version == 1
    assert design.versions.get().number == 1
    assert design.created_by == eddie


def test_it_creates_a_design_centred_on_a_plus_strand_tss(as_user, eddie, workspace, predictor):
    as_user(eddie).post(
        new_url(workspace), {"model": predictor.pk, "gene_id": "YAL067W-A", "name": "mine"}
    )
    design = Design.objects.get()
    assert (design.start, design.end) == (2479 - 500, 2479 + 500)
    assert design.name == "mine"


def test_it_creates_a_design_from_coordinates_with_a_contig_alias(
    as_user, eddie, workspace, predictor
):
    response = as_user(eddie).post(
        new_url(workspace), {"model": predictor.pk, "region": "chrII:1,001-1,200"}
    )
    assert response.status_code == 302
    design = Design.objects.get()
    # [1000, 1200) has its centre at 1100; the 1,000 bp window is [600, 1600).
    assert (design.chrom, design.start, design.end) == ("II", 600, 1600)
    assert design.name == "II:1,001-1,200"


def test_a_window_may_reach_past_the_contig_start(as_user, eddie, workspace, predictor):
    as_user(eddie).post(new_url(workspace), {"model": predictor.pk, "region": "II:1-100"})
    design = Design.objects.get()
    assert design.start < 0 and design.end - design.start == 1000
    assert design.reference_sequence().startswith("N" * (-design.start))


def test_it_explains_an_unknown_contig(as_user, eddie, workspace, predictor):
    response = as_user(eddie).post(
        new_url(workspace), {"model": predictor.pk, "region": "chrX:1-100"}
    )
    assert response.status_code == 400
    assert "has no contig &#x27;chrX&#x27;; its contigs are I, II" in response.content.decode()
    assert not Design.objects.exists()


def test_it_explains_a_malformed_region(as_user, eddie, workspace, predictor):
    response = as_user(eddie).post(new_url(workspace), {"model": predictor.pk, "region": "II:5"})
    assert response.status_code == 400
    assert "is not a region like chrI:1,000-2,000" in response.content.decode()


def test_it_refuses_a_region_past_the_contig_end(as_user, eddie, workspace, predictor):
    response = as_user(eddie).post(
        new_url(workspace), {"model": predictor.pk, "region": "II:5,000-5,100"}
    )
    assert response.status_code == 400
    assert "starts after the end of II (4,000 bp)" in response.content.decode()


def test_an_unknown_gene_lists_the_candidates(as_user, eddie, workspace, predictor):
    response = as_user(eddie).post(new_url(workspace), {"model": predictor.pk, "gene": "YBL"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "is called &#x27;YBL&#x27;; choose one from the list" in html
    assert 'value="YBL113C"' in html and 'value="YBL112C"' in html


def test_it_needs_a_gene_or_a_region(as_user, eddie, workspace, predictor):
    response = as_user(eddie).post(new_url(workspace), {"model": predictor.pk})
    assert response.status_code == 400
    assert "Give either a gene or a region" in response.content.decode()


def test_the_workspace_page_lists_designs(as_user, victor, workspace, design):
    response = as_user(victor).get(reverse("gw-workspace", kwargs={"code": workspace.code}))
    html = response.content.decode()
    assert "test design" in html and reverse("gw-design", kwargs={"code": design.code}) in html
    assert "New design" not in html  # a viewer cannot create one


def test_the_workspace_page_offers_editors_a_new_design(as_user, eddie, workspace):
    response = as_user(eddie).get(reverse("gw-workspace", kwargs={"code": workspace.code}))
    assert new_url(workspace) in response.content.decode()
