"""Adapter for the bundled yeast demo model (engine/models/yeast_net.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import Tensor

from engine.models.base import GeneRegion, ModelAdapter, Track, TrackTable
from engine.models.yeast_net import YeastNet, YeastNetConfig

CONFIG_KEYS = set(YeastNetConfig.__dataclass_fields__)


def load_yeast_net(directory: Path) -> tuple[YeastNet, dict]:
    """Model and raw config from ``config.json`` + ``model.safetensors`` in ``directory``."""
    raw = json.loads((directory / "config.json").read_text())
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in CONFIG_KEYS}
    model = YeastNet(YeastNetConfig(**fields))
    weights = load_file(directory / "model.safetensors")  # shipped as float16: half the size
    model.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in weights.items()}
    )
    return model.eval(), raw


def track_table(raw: dict) -> TrackTable:
    return TrackTable(
        [
            Track(
                identifier=ident,
                description=ident.removeprefix("stripeseq_").replace(".", " "),
                strand="+" if ident.endswith(".plus") else "-",
                strand_pair=pair,
            )
            for ident, pair in zip(raw["track_ids"], raw["strand_pairs"], strict=True)
        ]
    )


def _select(out: Tensor, tracks: Sequence[int] | None) -> Tensor:
    return out if tracks is None else out[:, :, list(tracks)]


class YeastAdapter(ModelAdapter):
    def __init__(
        self, directory: Path, *, name: str = "yeast-demo", device: torch.device | str = "cpu"
    ) -> None:
        model, raw = load_yeast_net(directory)
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.name = name
        self.tracks = track_table(raw)
        self.gene_region = GeneRegion.from_config(raw.get("gene_region"))
        self.sequence_length = model.config.sequence_length
        self.bin_size = model.config.bin_size
        self.crop_bp = model.config.crop_bp
        # The local recomputation follows max pooling's reach; an anti-aliased tower reaches
        # further, so those models predict whole mutants. Where it exists, it is used only if
        # measured faster than whole windows (engine.variants.fast_path records the answer).
        self.supports_substitutions = model.config.pool == "max" and raw.get(
            "substitution_fast_path", True
        )

    def predict(self, onehot: Tensor, tracks: Sequence[int] | None = None) -> Tensor:
        return _select(self.model(self.check_input(onehot)), tracks)  # already counts

    def predict_reference(
        self, onehot: Tensor, tracks: Sequence[int] | None = None
    ) -> tuple[Tensor, list[Tensor]]:
        levels = self.model.tower_levels(self.check_input(onehot))
        return _select(self.model.from_levels(levels), tracks), levels

    def predict_substitutions(
        self,
        state: object,
        group: Tensor,
        alt: Tensor,
        first: Tensor,
        width: int,
        tracks: Sequence[int] | None = None,
    ) -> Tensor:
        alt = self.check_input(alt)
        group, first = group.to(self.device), first.to(self.device)
        out = self.model.forward_substituted(state, group, alt, first, width)
        return _select(out, tracks)

    def embed(self, onehot: Tensor) -> Tensor:
        tokens, _ = self.model.trunk(self.check_input(onehot))
        return tokens

    @property
    def attention_layers(self) -> int:
        return len(self.model.transformer)

    def attention(self, onehot: Tensor, layer: int) -> Tensor:
        """Recomputed by the explicit softmax path of the one layer asked for."""
        module = self.model.transformer[layer].attention
        module.keep_weights = True
        try:
            self.model.trunk(self.check_input(onehot))
            return module.last_weights
        finally:
            module.keep_weights, module.last_weights = False, None
