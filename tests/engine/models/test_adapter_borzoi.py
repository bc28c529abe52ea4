"""BorzoiAdapter (Borzoi and Flashzoi) against borzoi-pytorch itself: random weights, fp32.

Reduced models (dim 64 or 384, 2 layers, 2 heads, 16,384 bp in, 256 bins returned) keep the
normal suite at a few seconds per model; the conv tower and the 7,611-track head are hard-coded
in the package, so they stay full width. The ``slow`` tests run the published configuration.
"""

import time

import einops
import pytest
import torch
import torch.nn.functional as F
from borzoi_pytorch import Borzoi
from borzoi_pytorch.config_borzoi import BorzoiConfig
from torch import Tensor, nn

from engine.models.base import Track, TrackTable, untransform_borzoi
from engine.models.borzoi import BorzoiAdapter
from engine.models.ensemble import Ensemble, reverse_complement
from engine.models.flash_attention_cpu import (
    FlashzoiAttention,
    FlashzoiMHA,
    flashzoi_without_flash_attn,
)

LENGTH, BINS = 16_384, 256
SHORT_LENGTH = 4_096
TOLERANCE = 1e-5
# Outputs of the random models sit near softplus(0) ≈ 0.69, so a soft clip at 0.75 puts some
# values on each side; every third track is sum_sqrt and every other one has scale 0.5.
TRACKS = TrackTable(
    [
        Track(
            f"t{i}",
            strand_pair=i,
            scale=0.5 if i % 2 else 1.0,
            clip_soft=0.75,
            sum_stat="sum_sqrt" if i % 3 == 0 else "sum",
        )
        for i in range(7611)
    ]
)
SOME_TRACKS = [0, 1, 3, 4, 7610]


def randomize(model: nn.Module, seed: int = 0) -> None:
    """Random norms, biases and zero-initialised projections, so that no part of the network
    is an identity a parity test would pass trivially."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.LayerNorm)):
                module.weight.uniform_(0.5, 1.5, generator=g)
                module.bias.normal_(0, 0.2, generator=g)
            if isinstance(module, nn.BatchNorm1d):
                module.running_mean.normal_(0, 0.2, generator=g)
                module.running_var.uniform_(0.5, 1.5, generator=g)
            if isinstance(module, (nn.Linear, nn.Conv1d)):
                if not module.weight.any():
                    module.weight.normal_(0, module.weight.shape[1] ** -0.5, generator=g)
                if module.bias is not None:
                    module.bias.normal_(0, 0.2, generator=g)


def build(config: BorzoiConfig) -> nn.Module:
    with flashzoi_without_flash_attn():  # only used when config.flashed
        model = Borzoi(config).eval()
    randomize(model)
    return model


def reduced_config(*, flashed: bool) -> BorzoiConfig:
    # Flashzoi's rotary embedding needs heads of at least 128 dims: 384 / 2 = 192, as published.
    return BorzoiConfig(
        dim=384 if flashed else 64,
        depth=2,
        heads=2,
        attn_dim_key=16,
        attn_dim_value=32,
        bins_to_return=BINS,
        sequence_length=LENGTH,
        flashed=flashed,
    )


def random_onehot(batch: int, length: int = LENGTH, seed: int = 0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.one_hot(torch.randint(0, 4, (batch, length), generator=g), 4).float()  # (B, L, 4)


def reference_predict(model: nn.Module, onehot: Tensor, tracks: list[int] | None) -> Tensor:
    """The package's own forward, transposed to (B, bins, T) and untransformed the way the
    published weights need (the adapter's default, ``legacy_transform=True``)."""
    with torch.inference_mode():
        out = einops.rearrange(model(onehot.transpose(1, 2)), "b t n -> b n t")
    chosen = TRACKS.tracks if tracks is None else [TRACKS.tracks[i] for i in tracks]
    out = out if tracks is None else out[..., tracks]
    return untransform_borzoi(out, chosen, legacy=True)


def internal_attention(model: nn.Module, layer: nn.Module, onehot: Tensor) -> Tensor:
    """What ``Attention.forward`` computes as its softmax, read where it enters the dropout."""
    captured = []
    handle = layer.attn_dropout.register_forward_hook(lambda m, a, o: captured.append(a[0]))
    try:
        with torch.inference_mode():
            model(onehot.transpose(1, 2))
    finally:
        handle.remove()
    return captured[0]


def max_diff(a: Tensor, b: Tensor) -> float:
    return (a - b).abs().max().item()


@pytest.fixture(scope="module")
def borzoi(tmp_path_factory) -> tuple[nn.Module, BorzoiAdapter]:
    model = build(reduced_config(flashed=False))
    directory = tmp_path_factory.mktemp("borzoi")
    model.save_pretrained(directory)
    return model, BorzoiAdapter(directory, name="borzoi-test", tracks=TRACKS)


@pytest.fixture(scope="module")
def flashzoi_dir(tmp_path_factory):
    model = build(reduced_config(flashed=True))
    directory = tmp_path_factory.mktemp("flashzoi")
    model.save_pretrained(directory)
    return model, directory


@pytest.fixture(scope="module")
def flashzoi(flashzoi_dir) -> tuple[nn.Module, BorzoiAdapter]:
    model, directory = flashzoi_dir
    return model, BorzoiAdapter(directory, name="flashzoi-test", tracks=TRACKS, flashed=True)


def test_it_reads_the_geometry_from_the_config(borzoi) -> None:
    _, adapter = borzoi
    assert (adapter.sequence_length, adapter.bin_size, adapter.crop_bp) == (LENGTH, 32, 4096)
    assert (adapter.output_bins, adapter.attention_layers) == (BINS, 2)


def test_predict_matches_the_reference_forward(borzoi) -> None:
    model, adapter = borzoi
    onehot = random_onehot(2)
    with torch.inference_mode():
        some, every = adapter.predict(onehot, SOME_TRACKS), adapter.predict(onehot)
    assert some.shape == (2, BINS, len(SOME_TRACKS)) and every.shape == (2, BINS, 7611)
    assert max_diff(some, reference_predict(model, onehot, SOME_TRACKS)) <= TOLERANCE
    assert max_diff(every, reference_predict(model, onehot, None)) <= TOLERANCE


def test_predict_runs_the_head_only_for_the_requested_tracks(borzoi) -> None:
    _, adapter = borzoi
    calls = []
    handle = adapter.model.human_head.register_forward_hook(lambda m, a, o: calls.append(o))
    try:
        with torch.inference_mode():
            adapter.predict(random_onehot(1), [5])
    finally:
        handle.remove()
    assert calls == []  # the sliced weights ran instead of the 7,611-channel conv


def test_embed_matches_return_embeddings(borzoi) -> None:
    model, adapter = borzoi
    onehot = random_onehot(1)
    with torch.inference_mode():
        _, expected = model(onehot.transpose(1, 2), return_embeddings=True)  # (B, 1920, bins)
    embedding = adapter.embed(onehot)
    assert embedding.shape == (1, BINS, 1920)
    assert max_diff(embedding, expected.transpose(1, 2)) <= TOLERANCE


def test_attention_equals_the_weights_the_layer_computes(borzoi) -> None:
    model, adapter = borzoi
    onehot = random_onehot(2)
    for layer in range(adapter.attention_layers):
        expected = internal_attention(model, model.transformer[layer][0].fn[1], onehot)
        weights = adapter.attention(onehot, layer)
        assert weights.shape == (2, 2, LENGTH // 128, LENGTH // 128)
        assert max_diff(weights, expected) <= 1e-6


def test_predict_survives_other_lengths_and_grad_modes(borzoi) -> None:
    # The package caches each layer's position table on first use: here for 64 tokens, as an
    # inference tensor. Saliency then needs gradients through a 128-token pass.
    _, adapter = borzoi
    with torch.inference_mode():
        adapter.model(random_onehot(1, length=LENGTH // 2).transpose(1, 2))
    onehot = random_onehot(1).requires_grad_()
    adapter.predict(onehot, [0]).sum().backward()
    assert onehot.grad is not None and torch.isfinite(onehot.grad).all()


@pytest.fixture(scope="module")
def short_borzoi(tmp_path_factory) -> BorzoiAdapter:
    """A 4 kb input: a CPU without native bf16 emulates it (~100× slower than fp32 here)."""
    config = reduced_config(flashed=False)
    config.sequence_length, config.bins_to_return = SHORT_LENGTH, SHORT_LENGTH // 128
    directory = tmp_path_factory.mktemp("short-borzoi")
    build(config).save_pretrained(directory)
    return BorzoiAdapter(directory, name="short-borzoi", tracks=TRACKS)


def test_bf16_autocast_runs_with_an_fp32_head(short_borzoi) -> None:
    adapter = short_borzoi
    onehot = random_onehot(1, SHORT_LENGTH)
    with torch.inference_mode():
        exact = adapter.predict(onehot, SOME_TRACKS)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            rough = adapter.predict(onehot, SOME_TRACKS)
    assert rough.dtype == torch.float32
    assert max_diff(rough, exact) < 0.1


def test_rc_ensemble_of_an_unstranded_borzoi_track_is_symmetric(borzoi) -> None:
    _, adapter = borzoi
    ensemble, onehot = Ensemble([adapter]), random_onehot(1)
    with torch.inference_mode():
        forward = ensemble.predict(onehot, [2, 3])
        flipped_rc = ensemble.predict(reverse_complement(onehot), [2, 3]).flip(dims=(1,))
    assert max_diff(forward, flipped_rc) <= 1e-6


def test_it_loads_only_from_a_local_folder(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        BorzoiAdapter(tmp_path / "johahi/borzoi-replicate-0", name="x", tracks=TRACKS)


def test_it_refuses_flashzoi_weights_as_borzoi(flashzoi_dir) -> None:
    with pytest.raises(ValueError, match="do not fit a Borzoi model"):
        BorzoiAdapter(flashzoi_dir[1], name="x", tracks=TRACKS)


# Flashzoi: flash-attn is CUDA-only, so its MHA is checked against an independent pure-torch
# re-implementation of what flash_attn/modules/mha.py computes for Flashzoi's settings.


def flash_mha_reference(mha: nn.Module, x: Tensor, heads: int) -> tuple[Tensor, Tensor]:
    """flash-attn's ``MHA(num_heads_kv=heads // 2, rotary_emb_dim=128, rotary_emb_base=20000)``
    written out: rotary as a complex rotation of dims (i, i + 64), k/v heads repeated with
    einops as in flash-attn's ``CrossAttention``, scale folded into k as there.

    Returns:
        The output ``(B, N, dim)`` and the softmax weights ``(B, heads, N, N)``.
    """
    batch, length, dim = x.shape
    size, kv_heads = dim // heads, heads // 2
    qkv = F.linear(x, mha.Wqkv.weight, mha.Wqkv.bias)
    q = qkv[..., : heads * size].reshape(batch, length, heads, size)
    kv = qkv[..., heads * size :].reshape(batch, length, 2, kv_heads, size)
    inv_freq = 1.0 / 20000.0 ** (torch.arange(0, 128, 2, dtype=torch.float32) / 128)
    angle = torch.arange(length, dtype=torch.float32)[:, None] * inv_freq  # (N, 64)
    turn = torch.polar(torch.ones_like(angle), angle)[:, None, :]  # (N, 1, 64)

    def rotate(t: Tensor) -> Tensor:  # (B, N, h, size)
        z = torch.complex(t[..., :64], t[..., 64:128]) * turn
        return torch.cat([z.real, z.imag, t[..., 128:]], dim=-1)

    q, k, v = rotate(q), rotate(kv[:, :, 0]), kv[:, :, 1]
    k, v = (einops.repeat(t, "b n h d -> b n (h g) d", g=heads // kv_heads) for t in (k, v))
    scores = torch.einsum("bthd,bshd->bhts", q, k * size**-0.5)
    weights = scores.softmax(dim=-1)
    out = torch.einsum("bhts,bshd->bthd", weights, v).reshape(batch, length, dim)
    return F.linear(out, mha.out_proj.weight, mha.out_proj.bias), weights


def test_flashzoi_attention_keeps_flash_attn_parameter_names_and_shapes() -> None:
    # Published Flashzoi: dim 1536, 8 query heads over 4 key/value heads of 192.
    shapes = {k: tuple(v.shape) for k, v in FlashzoiAttention(1536, heads=8).state_dict().items()}
    assert shapes == {
        "mha.Wqkv.weight": (3072, 1536),
        "mha.Wqkv.bias": (3072,),
        "mha.out_proj.weight": (1536, 1536),
        "mha.out_proj.bias": (1536,),
    }


def test_flashzoi_sdpa_matches_flash_attn_and_the_explicit_softmax() -> None:
    # 8 query heads over 4 key/value heads, as published; 136-dim heads keep it small while
    # leaving 8 dims outside the rotary embedding.
    torch.manual_seed(0)
    mha = FlashzoiMHA(8 * 136, heads=8, dropout=0.0).eval()
    x = torch.randn(2, 40, 8 * 136)
    expected, expected_weights = flash_mha_reference(mha, x, heads=8)
    with torch.inference_mode():
        out, qkv = mha(x), mha.Wqkv(x)
        weights = mha.attention_weights(qkv)
        _, _, v = mha.split_heads(qkv)
        explicit = weights @ v.repeat_interleave(2, dim=1)  # (B, H, N, D)
        explicit = mha.out_proj(einops.rearrange(explicit, "b h n d -> b n (h d)"))
    assert max_diff(out, expected) <= TOLERANCE
    assert max_diff(out, explicit) <= TOLERANCE
    assert max_diff(weights, expected_weights) <= 1e-6


def test_flashzoi_predict_matches_the_reference_forward(flashzoi) -> None:
    model, adapter = flashzoi
    onehot = random_onehot(2)
    with torch.inference_mode():
        out = adapter.predict(onehot, SOME_TRACKS)
    assert max_diff(out, reference_predict(model, onehot, SOME_TRACKS)) <= TOLERANCE


def test_flashzoi_attention_equals_flash_attns_softmax(flashzoi) -> None:
    model, adapter = flashzoi
    onehot, layer = random_onehot(1), 1
    module = model.transformer[layer][0].fn[1]
    inputs = []
    handle = module.register_forward_pre_hook(lambda m, a: inputs.append(a[0]))
    try:
        with torch.inference_mode():
            model(onehot.transpose(1, 2))
    finally:
        handle.remove()
    with torch.inference_mode():
        _, expected = flash_mha_reference(module.mha, inputs[0], heads=2)
    assert max_diff(adapter.attention(onehot, layer), expected) <= 1e-6


# Published configuration, random weights, one 524,288 bp sequence: about a minute per forward
# on two CPU cores and several GB of memory.


@pytest.mark.slow
@pytest.mark.parametrize("flashed", [False, True], ids=["borzoi", "flashzoi"])
def test_full_size_predict_matches_the_reference_forward(tmp_path, flashed) -> None:
    model = build(BorzoiConfig(flashed=flashed))
    model.save_pretrained(tmp_path)
    adapter = BorzoiAdapter(tmp_path, name="full", tracks=TRACKS, flashed=flashed)
    geometry = (adapter.sequence_length, adapter.crop_bp, adapter.output_bins)
    assert geometry == (524_288, 163_840, 6144)
    onehot = random_onehot(1, length=524_288)
    start = time.perf_counter()
    with torch.inference_mode():
        out = adapter.predict(onehot)
    seconds = time.perf_counter() - start
    diff = max_diff(out, reference_predict(model, onehot, None))
    kind = "Flashzoi" if flashed else "Borzoi"
    print(f"full-size {kind}: max abs diff {diff:.2e}, adapter forward {seconds:.0f} s")
    assert diff <= TOLERANCE
