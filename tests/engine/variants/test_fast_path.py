"""The per-model fast-path decision: measured on the tiny model, recorded in its config.json,
and read back by the adapter."""

from pathlib import Path

import pytest

from engine.io.fasta import Genome
from engine.io.files import merge_json
from engine.models.yeast import YeastAdapter
from engine.variants.fast_path import compare, dense_snvs, spread_snvs

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def mini():
    genome = Genome(DATA / "mini.fa.gz")
    yield genome
    genome.close()


def test_the_fast_path_and_whole_windows_give_the_same_scores_and_are_both_timed(
    mini, tiny_yeast_dir
):
    sets = {"dense": dense_snvs(mini, "I", 2000, 24), "spread": spread_snvs(mini, 6, 1500)}
    assert len(sets["dense"]) == 24 and len(sets["spread"]) == 6
    assert [v.start for v in sets["spread"]][:2] == [750, 2250]
    found = compare(lambda: YeastAdapter(tiny_yeast_dir), mini, sets, shifts=[0, 1])
    for name in sets:
        assert found[name]["alleles"] == len(sets[name])
        assert found[name]["max_abs_difference"] < 1e-4  # an exact rewrite, float32 noise
        assert found[name]["fast_path_cpu_s_per_allele"] > 0
        expected = found[name]["whole_windows_cpu_s_per_allele"]
        assert found[name]["speedup"] == pytest.approx(
            expected / found[name]["fast_path_cpu_s_per_allele"], rel=0.01
        )
    assert found["use_fast_path"] == all(found[n]["speedup"] > 1 for n in sets)


def test_a_model_recorded_as_slower_on_its_fast_path_predicts_whole_windows(tiny_yeast_dir):
    assert YeastAdapter(tiny_yeast_dir).supports_substitutions
    merge_json(tiny_yeast_dir / "config.json", {"substitution_fast_path": False})
    assert not YeastAdapter(tiny_yeast_dir).supports_substitutions
