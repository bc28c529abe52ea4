"""EnformerAdapter against enformer-pytorch itself: random weights, fp32.

The reduced model (dim 96, 2 layers, 2 heads, 16,384 bp in, 64 bins returned, 10 human and 4
mouse tracks) runs in well under a second; the ``slow`` test runs the published configuration.
"""

import time

import pytest
import torch
import torch.nn.functional as F
from enformer_pytorch import Enformer
from enformer_pytorch.config_enformer import EnformerConfig
from torch import Tensor, nn

from engine.models.base import Track, TrackTable
from engine.models.enformer import EnformerAdapter

LENGTH, BINS = 16_384, 64
TOLERANCE = 1e-5
HUMAN = TrackTable([Track(f"h{i}", strand_pair=i) for i in range(10)])
MOUSE = TrackTable([Track(f"m{i}", strand_pair=i) for i in range(4)])


def randomize(model: nn.Module, seed: int = 0) -> None:
    """Random norms, biases and zero-initialised projections (Enformer zeroes every attention
    output), so that no part of the network is an identity a parity test would pass trivially."""
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


def build(config: EnformerConfig) -> nn.Module:
    torch.manual_seed(0)
    model = Enformer(config).eval()
    randomize(model)
    return model


def random_onehot(batch: int, length: int = LENGTH, seed: int = 0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.one_hot(torch.randint(0, 4, (batch, length), generator=g), 4).float()  # (B, L, 4)


def reference(model: nn.Module, onehot: Tensor, head: str) -> Tensor:
    with torch.inference_mode():
        return model(onehot, head=head)  # (B, bins, T)


def internal_attention(model: nn.Module, layer: nn.Module, onehot: Tensor) -> Tensor:
    """What ``Attention.forward`` computes as its softmax, read where it enters the dropout."""
    captured = []
    handle = layer.attn_dropout.register_forward_hook(lambda m, a, o: captured.append(a[0]))
    try:
        reference(model, onehot, "human")
    finally:
        handle.remove()
    return captured[0]


def max_diff(a: Tensor, b: Tensor) -> float:
    return (a - b).abs().max().item()


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[nn.Module, object]:
    config = EnformerConfig(
        dim=96,
        depth=2,
        heads=2,
        output_heads=dict(human=10, mouse=4),
        target_length=BINS,
        dim_divisible_by=16,
        sequence_length=LENGTH,
    )
    model = build(config)
    directory = tmp_path_factory.mktemp("enformer")
    model.save_pretrained(directory, safe_serialization=False)  # shared trunk tensors
    return model, directory


@pytest.fixture(scope="module")
def enformer(saved) -> tuple[nn.Module, EnformerAdapter]:
    model, directory = saved
    return model, EnformerAdapter(directory, name="enformer-test", tracks=HUMAN, use_tf_gamma=False)


def test_it_reads_the_geometry_from_the_config(enformer) -> None:
    _, adapter = enformer
    assert (adapter.sequence_length, adapter.bin_size, adapter.crop_bp) == (LENGTH, 128, 4096)
    assert (adapter.output_bins, adapter.attention_layers) == (BINS, 2)


def test_predict_matches_the_reference_forward(enformer) -> None:
    model, adapter = enformer
    onehot = random_onehot(2)
    expected = reference(model, onehot, "human")
    with torch.inference_mode():
        some, every = adapter.predict(onehot, [1, 3, 9]), adapter.predict(onehot)
    assert some.shape == (2, BINS, 3) and every.shape == (2, BINS, 10)
    assert max_diff(some, expected[..., [1, 3, 9]]) <= TOLERANCE
    assert max_diff(every, expected) <= TOLERANCE


def test_predict_reads_the_mouse_head(saved) -> None:
    model, directory = saved
    adapter = EnformerAdapter(directory, name="x", tracks=MOUSE, head="mouse", use_tf_gamma=False)
    onehot = random_onehot(1)
    with torch.inference_mode():
        out = adapter.predict(onehot, [2])
    assert max_diff(out, reference(model, onehot, "mouse")[..., [2]]) <= TOLERANCE


def test_embed_matches_the_trunk_output(enformer) -> None:
    model, adapter = enformer
    onehot = random_onehot(1)
    with torch.inference_mode():
        expected = model(onehot, return_only_embeddings=True)
    embedding = adapter.embed(onehot)
    assert embedding.shape == (1, BINS, 2 * 96)
    assert max_diff(embedding, expected) <= TOLERANCE


def test_attention_equals_the_weights_the_layer_computes(enformer) -> None:
    model, adapter = enformer
    onehot = random_onehot(2)
    for layer in range(adapter.attention_layers):
        expected = internal_attention(model, model.transformer[layer][0].fn[1], onehot)
        weights = adapter.attention(onehot, layer)
        assert weights.shape == (2, 2, LENGTH // 128, LENGTH // 128)
        assert max_diff(weights, expected) <= 1e-6


def test_tf_gamma_needs_the_full_length_input(saved) -> None:
    with pytest.raises(ValueError, match="use_tf_gamma needs 1536 tokens"):
        EnformerAdapter(saved[1], name="x", tracks=HUMAN)


def test_it_rejects_a_track_table_of_the_wrong_size(saved) -> None:
    with pytest.raises(ValueError, match="predicts 10 tracks"):
        EnformerAdapter(saved[1], name="x", tracks=MOUSE, use_tf_gamma=False)


@pytest.mark.slow
def test_full_size_predict_matches_the_reference_forward(tmp_path) -> None:
    # Published configuration with TensorFlow's gammas (the official weights' setting), random
    # weights, one 196,608 bp sequence: about 40 s per forward on two CPU cores.
    model = build(EnformerConfig(use_tf_gamma=True))
    model.save_pretrained(tmp_path, safe_serialization=False)
    tracks = TrackTable([Track(f"h{i}", strand_pair=i) for i in range(5313)])
    adapter = EnformerAdapter(tmp_path, name="full", tracks=tracks)
    geometry = (adapter.sequence_length, adapter.crop_bp, adapter.output_bins)
    assert geometry == (196_608, 40_960, 896)
    onehot = random_onehot(1, length=196_608)
    start = time.perf_counter()
    with torch.inference_mode():
        out = adapter.predict(onehot)
    seconds = time.perf_counter() - start
    diff = max_diff(out, reference(model, onehot, "human"))
    print(f"full-size Enformer: max abs diff {diff:.2e}, adapter forward {seconds:.0f} s")
    assert diff <= TOLERANCE
