"""JASPAR motif look-up (pyjaspar's bundled database, no network) and its page."""

from urllib.parse import parse_qs, urlparse

from django.urls import reverse

from genomeweb.designs.motifs import consensus, search_motifs


def test_it_finds_the_yeast_gal4_motif_by_name():
    found = search_motifs("gal4")
    gal4 = found[0]
    assert (gal4.name, gal4.matrix_id, gal4.tax_group) == ("GAL4", "MA0299.1", "fungi")
    assert gal4.label == "GAL4 (MA0299.1)"
    # JASPAR's GAL4 profile begins with the CGG half-site.
    assert gal4.consensus.startswith("CGG") and set(gal4.consensus) <= set("ACGT")


def test_a_prefix_finds_names_and_dimer_partners():
    names = [m.name for m in search_motifs("Arnt")]
    assert names[0] == "Arnt"  # the exact name first
    assert "Ahr::Arnt" in names


def test_it_finds_a_matrix_by_id():
    assert [m.name for m in search_motifs("MA0299")] == ["GAL4"]


def test_it_returns_nothing_for_nothing():
    assert search_motifs("") == []
    assert search_motifs("%") == []  # no SQL wildcards from the user


def test_the_consensus_is_the_most_frequent_base_per_column():
    counts = {"A": [5, 0, 1, 2], "C": [1, 9, 1, 2], "G": [0, 1, 8, 0], "T": [4, 0, 0, 0]}
    assert consensus(counts) == "ACGA"  # a tie goes to the first of A, C, G, T


def test_the_reverse_complement_is_offered():
    gal4 = search_motifs("GAL4")[0]
    complement = {"A": "T", "C": "G", "G": "C", "T": "A"}
    assert gal4.reverse_complement == "".join(complement[b] for b in reversed(gal4.consensus))


def test_the_search_fragment_links_to_a_prefilled_edit_form(as_user, eddie, design):
    response = as_user(eddie).get(
        reverse("gw-design-motifs", kwargs={"code": design.code}),
        {"q": "GAL4"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "MA0299.1" in html
    link = urlparse(html.split('href="')[1].split('"')[0].replace("&amp;", "&"))
    assert link.path == reverse("gw-design", kwargs={"code": design.code})
    query = parse_qs(link.query)
    assert query["kind"] == ["insertion"] and query["label"] == ["GAL4 (MA0299.1)"]
    assert query["bases"] == [search_motifs("GAL4")[0].consensus]


def test_the_search_page_works_without_htmx(as_user, eddie, design):
    response = as_user(eddie).get(
        reverse("gw-design-motifs", kwargs={"code": design.code}), {"q": "nosuchfactor"}
    )
    assert b"<html" in response.content
    assert "No JASPAR CORE motif" in response.content.decode()


def test_a_motif_insertion_is_saved_with_its_label(as_user, eddie, design):
    gal4 = search_motifs("GAL4")[0]
    client = as_user(eddie)
    client.post(
        reverse("gw-design-edit-add", kwargs={"code": design.code}),
        {
            "version": 1,
            "kind": "insertion",
            "position": "1,500",
            "bases": gal4.consensus,
            "label": gal4.label,
        },
    )
    design.refresh_from_db()
    assert design.edits == [
        {
            "kind": "insertion",
            "start": 499,
            "end": 499,
            "sequence": gal4.consensus,
            "label": "GAL4 (MA0299.1)",
        }
    ]
