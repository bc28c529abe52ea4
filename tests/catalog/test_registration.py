import hashlib
import json

import pytest
from django.core.management import CommandError, call_command

from genomeweb.catalog.models import Predictor, PredictorTrack
from genomeweb.catalog.registration import register_observed
from genomeweb.catalog.tracks import read_targets, search_tracks, split_description


@pytest.fixture
def tiny_yeast_dir(tmp_path):
    """A checkpoint folder with the yeast config layout; the weights are stand-in bytes (the
    registration only hashes them)."""
    from engine.training.data import strand_pairs, track_ids

    directory = tmp_path / "tiny"
    directory.mkdir()
    config = {
        "sequence_length": 1024,
        "crop_bp": 128,
        "track_ids": track_ids(),
        "strand_pairs": strand_pairs(),
    }
    (directory / "config.json").write_text(json.dumps(config))
    (directory / "model.safetensors").write_bytes(b"weights")
    return directory


def test_register_model_records_geometry_tracks_and_sha256(genome, tiny_yeast_dir):
    call_command(
        "register_model", "tiny", architecture="yeast", weights=[tiny_yeast_dir], genome="mini"
    )
    predictor = Predictor.objects.get(name="tiny")
    assert (predictor.sequence_length, predictor.crop_bp, predictor.output_bins) == (1024, 128, 24)
    assert predictor.replicates[0]["sha256"] == hashlib.sha256(b"weights").hexdigest()
    plus = predictor.tracks.get(identifier="stripeseq_S288C_WT_1.plus")
    minus = predictor.tracks.get(index=plus.strand_pair)
    assert (plus.strand, minus.strand, minus.identifier) == ("+", "-", "stripeseq_S288C_WT_1.minus")
    assert plus.assay == "STRIPE-seq" and plus.sample == "S288C_WT_1"


def test_default_shifts_come_from_the_config_and_reach_the_form_api_and_spec(
    genome, tiny_yeast_dir, as_user, bob
):
    from genomeweb.variants.forms import ScoreForm

    call_command(
        "register_model", "tiny", architecture="yeast", weights=[tiny_yeast_dir], genome="mini"
    )
    assert Predictor.objects.get(name="tiny").default_shifts == [0]  # none configured
    config = json.loads((tiny_yeast_dir / "config.json").read_text())
    (tiny_yeast_dir / "config.json").write_text(
        json.dumps(config | {"default_shifts": [3, 0, 1, 2]})
    )
    call_command(
        "register_model", "tiny", architecture="yeast", weights=[tiny_yeast_dir], genome="mini"
    )
    predictor = Predictor.objects.get(name="tiny")
    assert predictor.default_shifts == [0, 1, 2, 3] and predictor.spec()["shifts"] == [0, 1, 2, 3]
    assert ScoreForm.defaults(genome)["shifts"] == "0,1,2,3"
    call_command(
        "register_model",
        "tiny",
        architecture="yeast",
        weights=[tiny_yeast_dir],
        genome="mini",
        shifts=[0, -1],
    )
    assert Predictor.objects.get(name="tiny").default_shifts == [-1, 0]  # the command's word wins


@pytest.mark.parametrize("shifts", [[], [0.5], "0", list(range(10)), [65]])
def test_bad_default_shifts_in_a_config_are_explained(genome, tiny_yeast_dir, shifts):
    config = json.loads((tiny_yeast_dir / "config.json").read_text())
    (tiny_yeast_dir / "config.json").write_text(json.dumps(config | {"default_shifts": shifts}))
    with pytest.raises(CommandError, match="default_shifts must be a list of 1 to 9 whole"):
        call_command(
            "register_model", "tiny", architecture="yeast", weights=[tiny_yeast_dir], genome="mini"
        )


def test_register_model_wants_a_known_genome(db, tiny_yeast_dir):
    with pytest.raises(CommandError, match="no genome 'hg99'"):
        call_command(
            "register_model", "x", architecture="yeast", weights=[tiny_yeast_dir], genome="hg99"
        )


def test_register_model_wants_weights(genome, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CommandError, match="holds no model.safetensors"):
        call_command(
            "register_model", "x", architecture="borzoi", weights=[tmp_path], genome="mini"
        )


def test_the_borzoi_human_track_table_imports_as_a_catalogue(genome, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"stand-in")
    call_command(
        "register_model", "borzoi-test", architecture="borzoi", weights=[tmp_path], genome="mini"
    )
    tracks = PredictorTrack.objects.filter(predictor__name="borzoi-test")
    assert tracks.count() == 7611
    counts = {a: tracks.filter(assay=a).count() for a in ("CHIP", "RNA", "CAGE", "DNASE", "ATAC")}
    assert counts == {"CHIP": 3886, "RNA": 1543, "CAGE": 1276, "DNASE": 674, "ATAC": 232}
    first = tracks.get(index=0)
    assert (first.identifier, first.strand, first.strand_pair, first.clip_soft) == (
        "CNhs10608+",
        "+",
        1,
        384.0,
    )
    found = search_tracks(tracks, "rna liver")
    assert found.exists() and all("liver" in t.description.lower() for t in found)


def test_read_targets_refuses_a_table_without_the_columns(tmp_path):
    bad = tmp_path / "t.txt"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="not a targets table"):
        read_targets(bad)


@pytest.mark.parametrize(
    "text, parts",
    [
        ("CAGE:brain, adult", ("CAGE", "brain, adult")),
        ("RNA:liver", ("RNA", "liver")),
        ("plain words", ("", "plain words")),
    ],
)
def test_split_description(text, parts):
    assert split_description(text) == parts


def test_borzoi_targets_are_found_without_importing_the_package():
    import subprocess
    import sys

    probe = (
        "import sys; from genomeweb.catalog.registration import borzoi_targets_path as p; "
        "print(p().is_file(), 'borzoi_pytorch' in sys.modules, 'torch' in sys.modules)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert result.stdout.split() == ["True", "False", "False"]


def test_load_demo_pairs_observed_tracks_and_is_idempotent(db):
    call_command("load_demo")
    call_command("load_demo")
    predictor = Predictor.objects.get(name="yeast-demo")
    assert predictor.tracks.count() == 12
    assert predictor.tracks.filter(observed__isnull=False).count() == 12
    track = predictor.tracks.get(identifier="stripeseq_S288C_D_2.minus")
    assert track.observed.name == track.identifier and track.observed.strand == "-"
    assert track.observed.file.is_file()


def test_register_observed_names_the_track_by_file_stem(genome, tmp_path):
    path = tmp_path / "my_sample.plus.bw"
    path.write_bytes(b"x")
    observed = register_observed(genome, path)
    assert (observed.name, observed.strand) == ("my_sample.plus", "+")


def test_the_model_page_searches_tracks(as_user, bob, db):
    from django.urls import reverse

    call_command("load_demo")
    client = as_user(bob)
    assert b"yeast-demo" in client.get(reverse("gw-models")).content
    url = reverse("gw-model", kwargs={"name": "yeast-demo"})
    body = client.get(url, {"q": "D_2 minus"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in body and "1 track" in body
    assert "stripeseq_S288C_D_2.minus" in body and "stripeseq_S288C_D_2.plus" not in body
