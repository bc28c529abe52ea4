"""The Borzoi path's scores against a transcription of Calico's own code, on fixed arrays.

Calico un-transforms Borzoi outputs with baskerville's ``untransform_preds1`` (the manuscript
transform, the published weights) or ``untransform_preds`` (the current one), both with the
default ``unscale=False``: the counts stay multiplied by each track's ``scale``. Their log
scores then add 1 to those scaled values (``snps.py`` ``compute_scores``; ``borzoi_sed.py``
``write_snp`` for the gene-level logSED). Our adapter returns plain counts, so the scorers must
add ``1 / scale`` (``ModelAdapter.log_pseudocounts``) to give Calico's numbers.
"""

import numpy as np
import pytest
import torch

from engine.models.base import Track, TrackTable, untransform_borzoi
from engine.models.borzoi import BorzoiAdapter
from engine.models.ensemble import Ensemble
from engine.models.yeast import YeastAdapter
from engine.variants.scorers import SCORERS, gene_scores, score_all

# Three tracks whose scales span Borzoi's targets table (RNA-seq scales are ~0.01-0.3).
TRACKS = TrackTable(
    [
        Track("rna+", strand="+", strand_pair=1, scale=0.01, clip_soft=384.0, sum_stat="sum_sqrt"),
        Track("rna-", strand="-", strand_pair=0, scale=0.3, clip_soft=384.0, sum_stat="sum_sqrt"),
        Track("dnase", strand=".", strand_pair=2, scale=1.0, clip_soft=32.0, sum_stat="sum"),
    ]
)
BINS = 64
LOG_SCORERS = ("logSUM", "logSED", "logD1", "logD2")


def model_outputs(seed: int) -> np.ndarray:
    """``(bins, T)`` outputs on the transformed scale, some above the soft clip."""
    rng = np.random.default_rng(seed)
    return rng.gamma(0.6, 1.5, size=(BINS, len(TRACKS))) * np.array([0.05, 2.0, 20.0])


def calico_untransform(preds: np.ndarray, *, legacy: bool) -> np.ndarray:
    """baskerville ``untransform_preds1`` (legacy) / ``untransform_preds``, ``unscale=False``,
    written out from their code: the result is still multiplied by ``scale``."""
    scale = np.array([t.scale for t in TRACKS.tracks])
    clip = np.array([t.clip_soft for t in TRACKS.tracks])
    sqrt = np.array([t.sum_stat.find("_sqrt") != -1 for t in TRACKS.tracks])
    preds = preds.copy()
    if legacy:
        preds = preds / scale
        unclipped = clip + (preds - clip) ** 2
        preds = np.where(preds > clip, unclipped, preds)
        preds[:, sqrt] = preds[:, sqrt] ** (4 / 3)
        return preds * scale  # not unscale
    unclipped = clip - 1 + (preds - clip + 1) ** 2
    preds = np.where(preds > clip, unclipped, preds)
    preds[:, sqrt] = -1 + (preds[:, sqrt] + 1) ** 2
    return preds  # not unscale: no division by scale


def calico_scores(ref: np.ndarray, alt: np.ndarray) -> dict[str, np.ndarray]:
    """``compute_scores`` (one shift) / ``write_snp`` on ``(bins, T)`` scaled predictions."""
    ref_log, alt_log = np.log2(ref + 1), np.log2(alt + 1)
    log_diff = alt_log - ref_log
    return {
        "logSUM": alt_log.sum(axis=0) - ref_log.sum(axis=0),
        "logSED": np.log2(alt.sum(axis=0) + 1) - np.log2(ref.sum(axis=0) + 1),
        "logD1": np.abs(log_diff).sum(axis=0),
        "logD2": np.sqrt((log_diff**2).sum(axis=0)),
    }


def borzoi_pseudocounts() -> torch.Tensor:
    """What a Borzoi adapter gives the scorers, without loading 180 M weights."""
    adapter = BorzoiAdapter.__new__(BorzoiAdapter)
    adapter.tracks = TRACKS
    return torch.as_tensor(adapter.log_pseudocounts(range(len(TRACKS))))


def our_counts(outputs: np.ndarray, *, legacy: bool) -> torch.Tensor:
    y = torch.as_tensor(outputs, dtype=torch.float64)
    return untransform_borzoi(y, TRACKS.tracks, legacy=legacy)[None].float()  # (1, bins, T)


@pytest.mark.parametrize("legacy", [True, False], ids=["manuscript", "current"])
def test_borzoi_log_scores_equal_calicos_formulas(legacy):
    ref_out, alt_out = model_outputs(0), model_outputs(0)
    alt_out[30:34] *= np.array([1.6, 0.4, 1.3])  # an effect on a few bins of every track
    expected = calico_scores(
        calico_untransform(ref_out, legacy=legacy), calico_untransform(alt_out, legacy=legacy)
    )
    ref, alt = our_counts(ref_out, legacy=legacy), our_counts(alt_out, legacy=legacy)
    ours = score_all(ref, alt, LOG_SCORERS, borzoi_pseudocounts())[0]  # (T, S)
    for column, name in enumerate(LOG_SCORERS):
        np.testing.assert_allclose(ours[:, column].numpy(), expected[name], rtol=2e-4, err_msg=name)
    # A pseudocount of one count would not: on the low-scale track it is 100 of Calico's units.
    for name in ("logSED", "logSUM"):
        plain = SCORERS[name](ref, alt)[0, 0].item()
        assert abs(plain - expected[name][0]) > 0.1 * abs(expected[name][0]), name


def test_borzoi_gene_log_sed_equals_calicos_write_snp():
    ref_out, alt_out = model_outputs(1), model_outputs(1)
    alt_out[10:20] *= 1.5
    exons = np.zeros(BINS, dtype=bool)
    exons[8:24] = True
    ref_c, alt_c = (
        calico_untransform(ref_out, legacy=True),
        calico_untransform(alt_out, legacy=True),
    )
    expected = np.log2(alt_c[exons].sum(axis=0) + 1) - np.log2(ref_c[exons].sum(axis=0) + 1)
    _, log_sed = gene_scores(
        our_counts(ref_out, legacy=True),
        our_counts(alt_out, legacy=True),
        torch.as_tensor(exons)[None],
        torch.ones(1, len(TRACKS), dtype=torch.bool),
        borzoi_pseudocounts(),
    )
    np.testing.assert_allclose(log_sed[0, 0].numpy(), expected, rtol=2e-4)


def test_pseudocounts_are_one_over_scale_for_borzoi_and_one_count_elsewhere():
    np.testing.assert_allclose(borzoi_pseudocounts().numpy(), [100, 1 / 0.3, 1], rtol=1e-6)
    yeast = YeastAdapter.__new__(YeastAdapter)
    yeast.tracks = TRACKS
    assert yeast.log_pseudocounts([0, 2]).tolist() == [1, 1]


def test_an_ensemble_scores_with_its_replicates_pseudocounts():
    adapter = BorzoiAdapter.__new__(BorzoiAdapter)
    adapter.tracks, adapter.name, adapter.device = TRACKS, "borzoi", torch.device("cpu")
    adapter.gene_region, adapter.sequence_length, adapter.bin_size, adapter.crop_bp = (
        BorzoiAdapter.gene_region,
        2048,
        32,
        0,
    )
    ensemble = Ensemble([adapter], shifts=(0, 1))
    np.testing.assert_allclose(ensemble.log_pseudocounts([1]), [1 / 0.3], rtol=1e-6)
