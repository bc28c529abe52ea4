"""Adapter for Borzoi and Flashzoi (borzoi-pytorch), loaded only from a local weights folder.

Published geometry: 524,288 bp in, a transformer over 4,096 tokens of 128 bp, then a U-Net back
to 32 bp bins of which the central 6,144 are returned (163,840 bp cropped on each side), for
7,611 human tracks. Reduced models (tests) may declare another input length as
``sequence_length`` in ``config.json``; the crop follows from the config's ``bins_to_return``.

Pitfalls handled here (MODEL_NOTES.md):
- each ``Attention`` caches its relative-position table on first use, for that length, device
  and grad mode; it is dropped before every pass (rebuilding costs well under a millisecond);
- ``model.to(torch.bfloat16)`` fails in the head: bf16 only through the caller's autocast, and
  the head always runs in fp32 with autocast off, as the package's own ``forward`` does on CUDA;
- Flashzoi is built with ``FlashzoiAttention`` (flash_attention_cpu.py), so no flash-attn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, einsum, nn

from engine.models.base import ModelAdapter, TrackTable, untransform_borzoi
from engine.models.flash_attention_cpu import FlashzoiAttention, flashzoi_without_flash_attn

SEQUENCE_LENGTH = 524_288
BIN_SIZE = 32  # output bins: 5 halvings of the input resolution
TOKEN_SIZE = 128  # transformer tokens: 7 halvings


class _Captured(Exception):
    """Raised from a forward hook to stop a pass once the wanted outputs are in."""


def capture_outputs(run: Callable[[], object], modules: Sequence[nn.Module]) -> list[Tensor]:
    """The outputs of ``modules`` during ``run()``, which stops as soon as all have fired.

    Stopping early skips everything after the layer asked for (for the last transformer layer
    of Borzoi, the whole U-Net and head).

    Raises:
        RuntimeError: ``run`` finished without calling every module.
    """
    outputs: dict[int, Tensor] = {}

    def hook_for(index: int):
        def hook(module: nn.Module, args: tuple, output: Tensor) -> None:
            outputs[index] = output
            if len(outputs) == len(modules):
                raise _Captured

        return hook

    handles = [m.register_forward_hook(hook_for(i)) for i, m in enumerate(modules)]
    try:
        run()
    except _Captured:
        pass
    finally:
        for handle in handles:
            handle.remove()
    if len(outputs) < len(modules):
        raise RuntimeError("the forward pass never reached the hooked modules")
    return [outputs[i] for i in range(len(modules))]


def relative_attention_weights(module: nn.Module, q: Tensor, k: Tensor) -> Tensor:
    """Softmax weights of a borzoi-pytorch ``Attention`` from its ``to_q``/``to_k`` outputs.

    The same operations, in the same order, as ``Attention.forward``: content logits with
    ``rel_content_bias``, relative-position logits from the layer's cached position table with
    ``rel_pos_bias``, shifted by the package's ``fast_relative_shift``.

    Args:
        module: the layer, right after a forward pass set its ``positions`` table.
        q: ``(B, N, heads * dim_key)``, the ``to_q`` output.
        k: ``(B, N, heads * dim_key)``, the ``to_k`` output.

    Returns:
        ``(B, heads, N, N)``.
    """
    from borzoi_pytorch.pytorch_borzoi_transformer import fast_relative_shift

    q, k = (rearrange(t, "b n (h d) -> b h n d", h=module.heads) for t in (q, k))
    q = q * module.scale
    content_logits = einsum("b h i d, b h j d -> b h i j", q + module.rel_content_bias, k)
    rel_k = rearrange(module.to_rel_k(module.positions), "n (h d) -> h n d", h=module.heads)
    rel_logits = fast_relative_shift(q + module.rel_pos_bias, rel_k)
    return (content_logits + rel_logits).softmax(dim=-1)


def load_borzoi(directory: Path, *, flashed: bool) -> nn.Module:
    """A Borzoi (or Flashzoi) in eval mode from ``config.json`` + weights in ``directory``.

    Raises:
        FileNotFoundError: no ``config.json`` there (nothing is ever downloaded instead).
        ValueError: the weights do not fit the architecture (e.g. Flashzoi weights with
            ``flashed=False``); transformers would otherwise leave those layers random.
    """
    from borzoi_pytorch import Borzoi
    from borzoi_pytorch.config_borzoi import BorzoiConfig

    if not (directory / "config.json").is_file():
        raise FileNotFoundError(f"{directory} has no config.json")
    config = BorzoiConfig.from_pretrained(str(directory), local_files_only=True)
    config.flashed = flashed  # an attribute the package reads but BorzoiConfig does not declare
    with flashzoi_without_flash_attn() if flashed else nullcontext():
        model, info = Borzoi.from_pretrained(
            str(directory), config=config, local_files_only=True, output_loading_info=True
        )
    problems = {key: value for key, value in info.items() if value}
    if problems:
        kind = "Flashzoi" if flashed else "Borzoi"
        raise ValueError(f"the weights in {directory} do not fit a {kind} model: {problems}")
    return model.eval()


class BorzoiAdapter(ModelAdapter):
    """Borzoi or Flashzoi behind the model contract.

    Args:
        directory: folder with ``config.json`` and ``model.safetensors`` (or
            ``pytorch_model.bin``).
        name: the model's name in the catalog.
        tracks: the head's tracks, in output order, with their transform fields.
        flashed: build Flashzoi (rotary, grouped-query attention) instead of Borzoi.
        device: where the model runs.
        legacy_transform: outputs are on the Borzoi manuscript's target scale, as for the
            published Borzoi and Flashzoi weights; False for models trained with baskerville's
            current transform (see ``untransform_borzoi``).
    """

    # Calico's scores add 1 to predictions left multiplied by the track scale
    # (``untransform_preds1(unscale=False)``), under either target transform.
    scaled_pseudocount = True

    def __init__(
        self,
        directory: Path,
        *,
        name: str,
        tracks: TrackTable,
        flashed: bool = False,
        device: torch.device | str = "cpu",
        legacy_transform: bool = True,
    ) -> None:
        from borzoi_pytorch.pytorch_borzoi_transformer import Attention

        self.device = torch.device(device)
        self.model = load_borzoi(Path(directory), flashed=flashed).to(self.device)
        self.name, self.tracks = name, tracks
        self.flashed, self.legacy_transform = flashed, legacy_transform
        if len(tracks) != self.model.human_head.out_channels:
            raise ValueError(
                f"{name} predicts {self.model.human_head.out_channels} tracks, "
                f"the track table has {len(tracks)}"
            )
        self.sequence_length = getattr(self.model.config, "sequence_length", SEQUENCE_LENGTH)
        self.bin_size = BIN_SIZE
        self.crop_bp = self._crop_bp()
        kind = FlashzoiAttention if flashed else Attention
        self._layers = [m for m in self.model.transformer.modules() if isinstance(m, kind)]

    def _crop_bp(self) -> int:
        if self.sequence_length % TOKEN_SIZE:
            raise ValueError(f"the input length must be a multiple of {TOKEN_SIZE} bp")
        bins = self.sequence_length // BIN_SIZE
        returned = self.model.crop.target_length
        returned = bins if returned == -1 else returned
        if returned > bins or (bins - returned) % 2:
            raise ValueError(f"cannot crop {bins} bins to a central {returned}")
        return (bins - returned) // 2 * BIN_SIZE

    def _trunk(self, onehot: Tensor) -> Tensor:
        """``(B, L, 4)`` → ``(B, 1920, bins)``: everything before the head."""
        x = rearrange(self.check_input(onehot), "b l c -> b c l")
        if not self.flashed:  # Flashzoi's rotary tables are built on every call
            for layer in self._layers:
                # Rebuilt by the layer on its next call, for this length, device and grad mode.
                layer.positions = None
        return self.model.final_joined_convs(self.model.get_embs_after_crop(x))

    def predict(self, onehot: Tensor, tracks: Sequence[int] | None = None) -> Tensor:
        """Coverage counts; the head runs only for ``tracks`` (its weight rows are sliced).

        Runs in the caller's grad mode (saliency differentiates through it): wrap it in
        ``torch.inference_mode()`` otherwise.

        Args:
            onehot: ``(B, L, 4)`` one-hot ACGT.
            tracks: indices into the track table; all tracks when None.

        Returns:
            ``(B, bins, T)`` float32, untransformed with ``untransform_borzoi``.
        """
        wanted = list(range(len(self.tracks))) if tracks is None else list(tracks)
        x = self._trunk(onehot)  # (B, 1920, bins)
        head = self.model.human_head
        weight, bias = head.weight, head.bias
        if tracks is not None:
            index = torch.as_tensor(wanted, dtype=torch.long, device=weight.device)
            weight, bias = weight[index], bias[index]  # (T, 1920, 1), (T,)
        with torch.autocast(x.device.type, enabled=False):
            out = self.model.final_softplus(F.conv1d(x.float(), weight, bias))  # (B, T, bins)
        out = rearrange(out, "b t n -> b n t")
        chosen = [self.tracks.tracks[i] for i in wanted]
        return untransform_borzoi(out, chosen, legacy=self.legacy_transform)

    def embed(self, onehot: Tensor) -> Tensor:
        """``(B, L, 4)`` → ``(B, bins, 1920)``: the head's input (``return_embeddings``)."""
        with torch.inference_mode():
            return rearrange(self._trunk(onehot), "b d n -> b n d").float()

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
            ``(B, heads, N, N)`` float32, N = L / 128 tokens (512 MiB per sequence at full size).
        """
        if not 0 <= layer < self.attention_layers:
            raise ValueError(f"{self.name} has attention layers 0..{self.attention_layers - 1}")
        module = self._layers[layer]
        with torch.inference_mode():
            if self.flashed:
                (qkv,) = capture_outputs(lambda: self._trunk(onehot), [module.mha.Wqkv])
                weights = module.mha.attention_weights(qkv)
            else:
                q, k = capture_outputs(lambda: self._trunk(onehot), [module.to_q, module.to_k])
                weights = relative_attention_weights(module, q, k)
        return weights.float()
