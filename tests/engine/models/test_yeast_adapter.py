import numpy as np
import pytest
import torch

from engine.io.encoding import base_codes, one_hot
from engine.models.ensemble import Ensemble, reverse_complement
from engine.models.tiling import codes_to_onehot, tile_region
from engine.models.yeast import YeastAdapter, load_yeast_net
from engine.training.data import strand_pairs, track_ids


@pytest.fixture
def adapter(tiny_yeast_dir):
    return YeastAdapter(tiny_yeast_dir)


def random_onehot(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(batch)]
    return torch.from_numpy(np.stack([one_hot(s) for s in seqs]))


def test_predict_returns_counts_per_bin_and_track(adapter):
    out = adapter.predict(random_onehot(2, 1024))
    assert out.shape == (2, 24, 12) and adapter.output_bins == 24
    assert (out >= 0).all()
    assert adapter.tracks.strand_pairs() == strand_pairs()
    assert [t.identifier for t in adapter.tracks.tracks] == track_ids()


def test_predict_selects_tracks(adapter):
    x = random_onehot(1, 1024)
    assert torch.equal(adapter.predict(x, [3, 0]), adapter.predict(x)[:, :, [3, 0]])


def test_it_refuses_input_of_the_wrong_length(adapter):
    with pytest.raises(ValueError, match=r"takes \(B, 1024, 4\)"):
        adapter.predict(random_onehot(1, 1000))


def test_attention_rows_are_distributions_and_match_the_fast_path(adapter):
    x = random_onehot(1, 1024)
    weights = adapter.attention(x, layer=1)
    assert weights.shape == (1, 2, 8, 8)  # heads, tokens of 128 bp
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, 2, 8))
    # The explicit softmax path (used for maps) computes the same model as the SDPA path.
    module = adapter.model.transformer[1].attention
    fast = adapter.predict(x)
    module.keep_weights = True
    try:
        slow = adapter.predict(x)
    finally:
        module.keep_weights = False
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)


def test_embed_gives_one_vector_per_token(adapter):
    assert adapter.embed(random_onehot(2, 1024)).shape == (2, 8, 16)


def test_rc_ensemble_is_strand_symmetric(adapter):
    """Averaging with the reverse complement makes the + track of a sequence the mirror of the
    − track of its reverse complement (plus ↔ minus of the same sample)."""
    model = Ensemble([adapter], reverse_complement=True)
    x = random_onehot(1, 1024)
    forward = model.predict(x)
    backward = model.predict(reverse_complement(x)).flip(dims=(1,))
    torch.testing.assert_close(forward, backward[:, :, strand_pairs()], atol=1e-5, rtol=1e-5)


def test_tiling_equals_predicting_each_window(adapter):
    rng = np.random.default_rng(3)
    codes = base_codes("".join(rng.choice(list("ACGT"), 5000)))

    def predict(x):
        return adapter.predict(x)

    tiled = tile_region(
        predict, codes, 0, 5000, sequence_length=1024, crop_bp=128, bin_size=32, batch_size=2
    )
    assert tiled.shape == (157, 12)  # ceil(5000 / 32)
    window = np.full(1024, 4, dtype=np.uint8)  # the second window: starts at 768 - 128 = 640
    window[:] = codes[640:1664]
    with torch.inference_mode():
        direct = adapter.predict(codes_to_onehot(window[None])).numpy()[0]
    np.testing.assert_allclose(tiled[24:48], direct, rtol=1e-5, atol=1e-6)


def test_the_checkpoint_round_trips(tiny_yeast_dir):
    model, raw = load_yeast_net(tiny_yeast_dir)
    assert raw["track_ids"] == track_ids() and model.config.output_bins == 24


def test_the_fixture_model_responds_to_one_base(adapter):
    x = random_onehot(1, 1024)
    mutated = x.clone()
    mutated[0, 500] = mutated[0, 500].roll(1)
    assert (adapter.predict(mutated) - adapter.predict(x)).abs().max() > 1e-3


def test_blur_pool_halves_an_impulse_into_a_quarter_and_three_quarters():
    from engine.models.yeast_net import blur_pool

    for position, expected in ((4, {1: 0.25, 2: 0.75}), (5, {2: 0.75, 3: 0.25})):
        impulse = torch.zeros(1, 1, 12)
        impulse[0, 0, position] = 1.0
        pooled = blur_pool(impulse)[0, 0]
        assert pooled.shape == (6,)
        assert {i: v for i, v in enumerate(pooled.tolist()) if v} == expected


def test_blur_pool_keeps_a_constant_and_shifts_by_one_for_a_two_base_shift():
    from engine.models.yeast_net import blur_pool

    assert torch.allclose(blur_pool(torch.full((1, 3, 8), 2.5)), torch.full((1, 3, 4), 2.5))
    x = torch.randn(1, 4, 64, generator=torch.Generator().manual_seed(3))
    shifted = torch.roll(x, 2, dims=-1)
    assert torch.allclose(blur_pool(shifted)[..., 2:-2], blur_pool(x)[..., 1:-3])


def test_an_anti_aliased_yeast_net_predicts_whole_windows_and_round_trips(tmp_path):
    from engine.models.yeast_net import YeastNet, YeastNetConfig
    from engine.training.train import save_checkpoint

    config = YeastNetConfig(
        sequence_length=1024,
        crop_bp=128,
        stem_channels=8,
        tower_channels=(8, 8, 8, 8, 16, 16),
        transformer_layers=1,
        heads=2,
        unet_channels=8,
        pool="blur",
    )
    save_checkpoint(YeastNet(config).eval(), tmp_path, {"note": "test"})
    adapter = YeastAdapter(tmp_path)
    assert adapter.model.config.pool == "blur" and not adapter.supports_substitutions
    assert adapter.predict(random_onehot(2, 1024)).shape == (2, 24, 12)
    with pytest.raises(ValueError, match="pool must be one of max, blur"):
        YeastNetConfig(pool="average")


def test_the_shipped_max_pool_model_keeps_its_fast_path(adapter):
    assert adapter.model.config.pool == "max" and adapter.supports_substitutions


def test_rotary_positions_rotate_each_pair_by_its_angle_and_train_after_inference():
    from engine.models.yeast_net import rotary

    x = torch.randn(2, 3, 5, 8)
    with torch.inference_mode():
        rotary(x)  # fills the table inside inference mode
    n, d = x.shape[-2], x.shape[-1]
    angles = torch.arange(n)[:, None] * 10_000.0 ** (-torch.arange(0, d, 2) / d)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    expected = torch.stack(
        (x1 * angles.cos() - x2 * angles.sin(), x1 * angles.sin() + x2 * angles.cos()), dim=-1
    ).flatten(-2)
    torch.testing.assert_close(rotary(x), expected)
    trained = x.clone().requires_grad_()
    rotary(trained).sum().backward()  # the cached table may be saved for backward
    assert trained.grad is not None and trained.grad.shape == x.shape


def test_rotary_positions_rotate_each_pair_by_its_angle():
    import torch

    from engine.models.yeast_net import rotary

    x = torch.randn(2, 3, 16, 8)
    n, d = x.shape[-2:]
    angles = torch.arange(n)[:, None] * 10_000.0 ** (-torch.arange(0, d, 2) / d)  # (N, D/2)
    even, odd = x[..., 0::2], x[..., 1::2]
    expected = torch.empty_like(x)
    expected[..., 0::2] = even * angles.cos() - odd * angles.sin()
    expected[..., 1::2] = even * angles.sin() + odd * angles.cos()
    torch.testing.assert_close(rotary(x), expected)  # float32: the complex multiplication
    as_bf16 = rotary(x.to(torch.bfloat16)).float()  # bf16: the sliced halves
    torch.testing.assert_close(as_bf16, expected, atol=0.05, rtol=0.02)
    transposed = x.transpose(1, 2).contiguous().transpose(1, 2)  # not contiguous, as q and k are
    torch.testing.assert_close(rotary(transposed), expected)
