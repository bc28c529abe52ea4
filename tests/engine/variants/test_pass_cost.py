"""What a scoring job's time grows with: whole passes, a substitution's fast pass a fraction."""

import json

import pytest

from engine.io.files import fast_substitution_cost
from engine.variants.windows import forward_passes, pass_cost

# two SNVs and a deletion in tile I:0 (step 100), one SNV in tile II:3
LOCI = [("I", 10, 1, 1), ("I", 20, 1, 1), ("I", 30, 3, 1), ("II", 350, 1, 1)]


def test_whole_passes_count_as_forward_passes_and_fast_ones_as_their_share():
    passes = forward_passes(LOCI, 100, per_pass=8)
    assert passes == (2 + 3 + 2) * 8  # 2 references, 3 SNVs, 2 anchorings of the deletion
    assert pass_cost(LOCI, 100, per_pass=8) == passes
    assert pass_cost(LOCI, 100, per_pass=8, substitution_cost=0.25) == (2 + 2 + 0.75) * 8


def write_model(folder, *, fast: bool, metrics: dict | None):
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"substitution_fast_path": fast}))
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_a_fast_pass_costs_what_the_models_spread_measure_says(tmp_path):
    spread = {"fast_path_cpu_s_per_allele": 0.24393, "whole_windows_cpu_s_per_allele": 0.3909}
    model = write_model(tmp_path / "m", fast=True, metrics={"fast_path": {"spread": spread}})
    # whole windows: 2a per allele pass; fast path: a + b  =>  b / a = 2F / W - 1
    assert fast_substitution_cost(model) == pytest.approx(2 * 0.24393 / 0.3909 - 1)
    off = write_model(tmp_path / "off", fast=False, metrics={"fast_path": {"spread": spread}})
    assert fast_substitution_cost(off) == 1.0
    unmeasured = write_model(tmp_path / "u", fast=True, metrics=None)
    assert fast_substitution_cost(unmeasured) == 1.0
