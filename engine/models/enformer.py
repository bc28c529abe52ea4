"""Adapter for Enformer (enformer-pytorch), loaded only from a local weights folder.

Published geometry: 196,608 bp in (channels last, like our canonical one-hot), a transformer
over 1,536 tokens of 128 bp, and 896 bins of 128 bp over the central 114,688 bp (40,960 bp
cropped on each side), 5,313 human or 1,643 mouse tracks. Reduced models (tests) may declare
another input length as ``sequence_length`` in ``config.json``; bins and crop follow from the
config's ``num_downsamples`` and ``target_length``.

Outputs are softplus counts-like values with no squash transform, so ``predict`` returns them as
they are (every track's scale is 1).

Pitfalls handled here (MODEL_NOTES.md):
- ``Enformer.from_pretrained(dir, use_tf_gamma=...)``, the class method: the module-level
  ``from_pretrained`` helper ignores the flag for local folders;
- ``use_tf_gamma=True`` (TensorFlow's gamma positional features, right for the official weights
  ported from TensorFlow) is tabulated for 1,536 tokens only, so it needs full-length input;
- the model's own ``x.to(self.device)`` is a no-op: inputs are moved here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, einsum, nn

from engine.models.base import ModelAdapter, TrackTable
from engine.models.borzoi import capture_outputs

SEQUENCE_LENGTH = 196_608
TF_GAMMA_TOKENS = 1_536  # the only length enformer-pytorch has TensorFlow gammas for


def relative_attention_weights(module: nn.Module, q: Tensor, k: Tensor) -> Tensor:
    """Softmax weights of an enformer-pytorch ``Attention`` from its ``to_q``/``to_k`` outputs.

    The same operations, in the same order, as ``Attention.forward``: content logits with
    ``rel_content_bias``, plus relative-position logits (exponential, central-mask and gamma
    features, the layer's ``use_tf_gamma`` choice) with ``rel_pos_bias``, ``relative_shift``-ed.

    Args:
        module: the layer.
        q: ``(B, N, heads * dim_key)``, the ``to_q`` output.
        k: ``(B, N, heads * dim_key)``, the ``to_k`` output.

    Returns:
        ``(B, heads, N, N)``.
    """
    from enformer_pytorch.modeling_enformer import get_positional_embed, relative_shift

    h = module.heads
    q, k = (rearrange(t, "b n (h d) -> b h n d", h=h) for t in (q, k))
    q = q * module.scale
    content_logits = einsum("b h i d, b h j d -> b h i j", q + module.rel_content_bias, k)
    positions = get_positional_embed(
        q.shape[2],
        module.num_rel_pos_features,
        q.device,
        use_tf_gamma=module.use_tf_gamma,
        dtype=module.to_rel_k.weight.dtype,
    )
    rel_k = rearrange(module.to_rel_k(positions), "n (h d) -> h n d", h=h)
    rel_logits = einsum("b h i d, h j d -> b h i j", q + module.rel_pos_bias, rel_k)
    rel_logits = relative_shift(rel_logits)
    return (content_logits + rel_logits).softmax(dim=-1)


def load_enformer(directory: Path, *, use_tf_gamma: bool) -> nn.Module:
    """An Enformer in eval mode from ``config.json`` + weights in ``directory``.

    Raises:
        FileNotFoundError: no ``config.json`` there (nothing is ever downloaded instead).
        ValueError: the weights do not fit the configured architecture.
    """
    from enformer_pytorch import Enformer

    if not (directory / "config.json").is_file():
        raise FileNotFoundError(f"{directory} has no config.json")
    model, info = Enformer.from_pretrained(
        str(directory),
        use_tf_gamma=use_tf_gamma,
        local_files_only=True,
        output_loading_info=True,
    )
    problems = {key: value for key, value in info.items() if value}
    if problems:
        raise ValueError(f"the weights in {directory} do not fit an Enformer model: {problems}")
    return model.eval()


class EnformerAdapter(ModelAdapter):
    """Enformer behind the model contract.

    Args:
        directory: folder with ``config.json`` and ``pytorch_model.bin`` (or
            ``model.safetensors``).
        name: the model's name in the catalog.
        tracks: the head's tracks, in output order.
        head: which output head, ``"human"`` or ``"mouse"``.
        device: where the model runs.
        use_tf_gamma: TensorFlow's gamma positional features, as the official (TensorFlow-
            trained) weights need; full-length input only. False for models trained in PyTorch.

    Raises:
        ValueError: ``use_tf_gamma`` with a model whose input is not 1,536 tokens long.
    """

    def __init__(
        self,
        directory: Path,
        *,
        name: str,
        tracks: TrackTable,
        head: str = "human",
        device: torch.device | str = "cpu",
        use_tf_gamma: bool = True,
    ) -> None:
        from enformer_pytorch.modeling_enformer import Attention

        self.device = torch.device(device)
        self.model = load_enformer(Path(directory), use_tf_gamma=use_tf_gamma).to(self.device)
        config = self.model.config
        self.name, self.tracks, self.head = name, tracks, head
        self.sequence_length = getattr(config, "sequence_length", SEQUENCE_LENGTH)
        self.bin_size = 2**config.num_downsamples
        self.crop_bp = (self.sequence_length - config.target_length * self.bin_size) // 2
        self._check_geometry(use_tf_gamma)
        if len(tracks) != self._head_layer.out_features:
            raise ValueError(
                f"{name} head {head!r} predicts {self._head_layer.out_features} tracks, "
                f"the track table has {len(tracks)}"
            )
        self._layers = [m for m in self.model.transformer.modules() if isinstance(m, Attention)]

    def _check_geometry(self, use_tf_gamma: bool) -> None:
        tokens, remainder = divmod(self.sequence_length, self.bin_size)
        if remainder or self.crop_bp < 0:
            raise ValueError(f"{self.sequence_length} bp does not fit the model's bins and crop")
        if use_tf_gamma and tokens != TF_GAMMA_TOKENS:
            raise ValueError(
                f"use_tf_gamma needs {TF_GAMMA_TOKENS} tokens ({TF_GAMMA_TOKENS * self.bin_size} "
                f"bp), this model takes {tokens}"
            )
        if self.head not in self.model.heads:
            raise ValueError(f"no head {self.head!r}; the model has {sorted(self.model.heads)}")

    @property
    def _head_layer(self) -> nn.Linear:
        return self.model.heads[self.head][0]  # Sequential(Linear, Softplus)

    def _trunk(self, onehot: Tensor) -> Tensor:
        """``(B, L, 4)`` → ``(B, bins, 2 * dim)``: everything before the heads."""
        return self.model.trunk(self.check_input(onehot))

    def predict(self, onehot: Tensor, tracks: Sequence[int] | None = None) -> Tensor:
        """Predicted counts; the head runs only for ``tracks`` (its weight rows are sliced).

        Runs in the caller's grad mode (saliency differentiates through it): wrap it in
        ``torch.inference_mode()`` otherwise.

        Args:
            onehot: ``(B, L, 4)`` one-hot ACGT.
            tracks: indices into the track table; all tracks when None.

        Returns:
            ``(B, bins, T)`` float32.
        """
        x = self._trunk(onehot)  # (B, bins, 2 * dim)
        linear, softplus = self.model.heads[self.head]
        weight, bias = linear.weight, linear.bias
        if tracks is not None:
            index = torch.as_tensor(list(tracks), dtype=torch.long, device=weight.device)
            weight, bias = weight[index], bias[index]  # (T, 2 * dim), (T,)
        return softplus(F.linear(x, weight, bias)).float()

    def embed(self, onehot: Tensor) -> Tensor:
        """``(B, L, 4)`` → ``(B, bins, 2 * dim)``: the heads' input (``return_embeddings``)."""
        with torch.inference_mode():
            return self._trunk(onehot).float()

    @property
    def attention_layers(self) -> int:
        return len(self._layers)

    def attention(self, onehot: Tensor, layer: int) -> Tensor:
        """Softmax weights of transformer layer ``layer``, recomputed from hooks on its
        projections (the pass stops there).

        Args:
            onehot: ``(B, L, 4)``.
            layer: 0-based transformer layer.

        Returns:
            ``(B, heads, N, N)`` float32 over all N = L / 128 tokens, before the crop
            (1,536 tokens at full size: 72 MiB per sequence and layer).
        """
        if not 0 <= layer < self.attention_layers:
            raise ValueError(f"{self.name} has attention layers 0..{self.attention_layers - 1}")
        module = self._layers[layer]
        with torch.inference_mode():
            q, k = capture_outputs(lambda: self._trunk(onehot), [module.to_q, module.to_k])
            return relative_attention_weights(module, q, k).float()
