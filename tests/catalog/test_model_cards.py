"""A model's card on its page, and the notice beside its numbers elsewhere."""

import io
import json
import re

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
    assert card.intro == "" and card.sections == [] and card.evaluation is None
    assert card.accuracy is None


def test_the_card_is_rendered_and_html_written_in_it_is_shown_as_text(tiny_model, card_folder):
    (card_folder / "MODEL_CARD.md").write_text(
        "# tiny\n\nA tiny model.\n\n## Data and provenance\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "<script>alert('x')</script> <b onclick=x>hi</b>\n\n## Limits\nFew.\n"
    )
    card = read_card(tiny_model)
    assert "A tiny model." in card.intro and "<h1>" not in card.intro  # the page has a title
    assert [(s.title, s.anchor) for s in card.sections] == [
        ("Data and provenance", "data"),
        ("Limits", "limits"),
    ]
    html = card.sections[0].html
    assert "<table>" in html and "<td>1</td>" in html
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


ACCURACY = {
    "test_chromosomes": ["XII", "XIV"],
    "genes_scored": 1487,
    "model_rc": {
        "bins_32bp": {"WT": 0.65748, "diamide": 0.6259},
        "gene_level": {"WT": 0.6322, "diamide": 0.6226},
        "per_chromosome_32bp": {"XII": {"WT": 0.6244}, "XIV": {"WT": 0.6827}},
    },
    "model_forward_only": {
        "bins_32bp": {"WT": 0.6371, "diamide": 0.6006},
        "gene_level": {"WT": 0.59849, "diamide": 0.5843},
    },
    "replicate_WT1_vs_WT2": {"bins_32bp": 0.8544, "gene_level": 0.9749},
    "baseline_distance_to_tss": {
        "bins_32bp": {"WT": 0.4919, "diamide": 0.4793},
        "gene_level": {"WT": -0.0831, "diamide": -0.0640},
    },
}


def table_rows(page: str, css_class: str) -> list[list[str]]:
    """The cells of each body row of the first ``table.<css_class>``, tags stripped."""
    table = page.split(f'class="grid compact {css_class}"')[1].split("</table>")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], flags=re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in rows]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in row] for row in cells]


def test_the_model_page_renders_accuracy_against_ceiling_and_baseline_from_the_metrics(
    as_user, bob, tiny_model, card_folder
):
    # The card's own accuracy table says otherwise: the page must draw metrics.json's numbers.
    (card_folder / "MODEL_CARD.md").write_text(
        "# tiny\n\n## Split\nTest: XII, XIV.\n\n## Accuracy on the test chromosomes\n"
        "| | 32 bp |\n|---|---|\n| model | 0.111 |\n\n## Limits\nOne strain.\n"
    )
    stability = {
        "chroms": ["XII"],
        "shifts": [0, 1, 2, 3],
        "variants": 500,
        "shift_0_vs_7": {"pearson": 0.9806, "sign_agreement": 0.9285, "sign_agreement_top10": 1},
    }
    metrics = ACCURACY | {"scoring_stability": stability}
    (card_folder / "metrics.json").write_text(json.dumps(metrics))
    page = as_user(bob).get(reverse("gw-model", args=["tiny"])).content.decode()
    assert "0.111" not in page
    assert page.index('id="split"') < page.index('id="accuracy"') < page.index('id="limits"')
    assert table_rows(page, "accuracy") == [
        ["This model, reverse-complement averaging (default)", "0.657", "0.626", "0.632", "0.623"],
        ["This model, forward strand only", "0.637", "0.601", "0.598", "0.584"],
        ["Ceiling: replicate WT1 vs WT2", "0.854", "—", "0.975", "—"],
        ["Baseline: profile by distance to the gene start", "0.492", "0.479", "-0.083", "-0.064"],
    ]
    assert "32 bp bins, diamide" in page and "1487 genes" in page
    assert "XII 0.624, XIV 0.683" in page  # per test chromosome
    assert table_rows(page, "proxies")[0] == [
        "logSED of every allele × track, window shifted by 7 bp",
        "0.981",
        "93 %",
        "100 %",
    ]


def test_the_demo_models_page_renders_its_whole_card(as_user, bob, genome):
    """The shipped card: data, split, accuracy, track names (D = diamide), stability, limits."""
    from django.conf import settings
    from django.core.management import call_command

    call_command(
        "register_model",
        "demo",
        architecture="yeast",
        weights=[settings.BASE_DIR / "data" / "models" / "yeast-demo"],
        genome="mini",
        stdout=io.StringIO(),
    )
    page = as_user(bob).get(reverse("gw-model", args=["demo"])).content.decode()
    anchors = ["data", "track-names", "split", "accuracy", "placement", "limits", "scores"]
    assert all(f'id="{anchor}"' in page for anchor in anchors)
    names = page.split('id="track-names"')[1].split("<h3")[0]
    assert "<code>D</code>: diamide-treated cells" in names
    assert table_rows(page, "accuracy")[2] == [
        "Ceiling: replicate WT1 vs WT2",
        "0.854",
        "—",
        "0.975",
        "—",
    ]
    assert "0.981" in page.split('id="placement"')[1]  # the default scoring's stability


def test_the_card_defines_every_scorer_a_job_can_ask_for(as_user, bob, tiny_model):
    from genomeweb.variants.forms import SCORER_CHOICES

    page = as_user(bob).get(reverse("gw-model", args=["tiny"])).content.decode()
    for code in [code for code, _ in SCORER_CHOICES] + ["gene-SED", "gene-logSED"]:
        assert f'<tr id="scorer-{code}">' in page
    assert 'id="track-names"' in page  # a model whose card does not explain them still has one
