"""A model's card on its page, and the notice beside its numbers elsewhere."""

import json

import pytest
from django.urls import reverse

from genomeweb.catalog.cards import UNVALIDATED, read_card

PROXIES = {
    "model": "tiny",
    "replicates": 1,
    "variant_proxies": {
        "chromosomes": ["I", "II"],
        "gene_region": "the bins from 300 bp before its start to 50 bp into it",
        "tata_box_ranks": {
            "genes": {"TDH3": 2, "HIS3": 30},
            "regions": {},
            "positions": 192,
            "chance_rank": 21.4,
        },
        "motif_recovery": {
            "genes": 300,
            "factors": ["TATAWAWR", "REB1"],
            "site_p": 0.0001,
            "segments": 512,
            "fraction_matched": 0.4321,
            "chance_fraction": 0.2,
            "shuffled_fraction_matched": 0.1,
            "distance_only_segments": 300,
            "distance_only_fraction_matched": 0.25,
        },
        "stability": {
            "variants": 2000,
            "shift_0_vs_7": {"pearson": 0.6771, "sign_agreement": 0.7953},
            "centred_vs_shared_windows": {"pearson": 0.8342, "sign_agreement": 0.81},
        },
    },
}


@pytest.fixture
def card_folder(tiny_model, tiny_yeast_dir):
    return tiny_yeast_dir


def test_a_model_without_card_or_metrics_is_unvalidated(tiny_model, card_folder):
    card = read_card(tiny_model)
    assert not card.validated and card.validation == UNVALIDATED
    assert card.html == "" and card.evaluation is None


def test_the_card_is_rendered_and_html_written_in_it_is_shown_as_text(tiny_model, card_folder):
    (card_folder / "MODEL_CARD.md").write_text(
        "# tiny\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "<script>alert('x')</script> <b onclick=x>hi</b>\n"
    )
    html = read_card(tiny_model).html
    assert "<h1>tiny</h1>" in html and "<table>" in html and "<td>1</td>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b " not in html


def test_the_model_page_shows_validation_proxies_and_card(as_user, bob, tiny_model, card_folder):
    (card_folder / "MODEL_CARD.md").write_text("# tiny\n\nA card.\n")
    statement = "Not validated: compared with nothing yet."
    metrics = {
        "variant_level_validation": {"status": "unvalidated", "statement": statement},
        "evaluation": PROXIES,
    }
    (card_folder / "metrics.json").write_text(json.dumps(metrics))
    page = as_user(bob).get(reverse("gw-model", args=["tiny"])).content.decode()
    assert "Unvalidated predictions." in page and statement in page
    assert "TDH3 2, HIS3 30" in page and "chance: 21.4" in page
    assert "43 %" in page and "random places: 20 %" in page  # stretches holding a site
    assert "distance-only profile: 25 %" in page
    assert "0.677" in page and "0.834" in page and "one replicate" in page
    assert "A card." in page


def test_a_validated_model_says_so_without_the_warning(as_user, bob, tiny_model, card_folder):
    statement = "Validated on 300 measured variants: AUROC 0.70."
    metrics = {"variant_level_validation": {"status": "validated", "statement": statement}}
    (card_folder / "metrics.json").write_text(json.dumps(metrics))
    page = as_user(bob).get(reverse("gw-model", args=["tiny"])).content.decode()
    assert statement in page and "Unvalidated predictions." not in page
    assert "Not evaluated yet" in page


def test_the_model_page_shows_the_default_scorings_placement_stability(
    as_user, bob, tiny_model, card_folder
):
    measure = {"pearson": 0.9806, "sign_agreement": 0.9285, "sign_agreement_top10": 1.0}
    stability = {
        "chroms": ["XII", "XIV"],
        "shifts": [0, 1, 2, 3],
        "variants": 500,
        "shift_0_vs_7": measure,
        "centred_vs_shared_windows": measure | {"pearson": 0.9642},
        "gene_logSED": {"shift_0_vs_7": measure | {"pearson": 0.9762}},
    }
    (card_folder / "metrics.json").write_text(json.dumps({"scoring_stability": stability}))
    page = as_user(bob).get(reverse("gw-model", args=["tiny"])).content.decode()
    assert "input shifts of 0, 1, 2, 3 bp" in page and "chromosomes XII, XIV" in page
    assert all(f'<td class="num">{value}</td>' in page for value in ("0.981", "0.964", "0.976"))
    assert "gene-level logSED, window shifted by 7 bp" in page and "100 %" in page
