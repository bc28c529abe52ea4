"""Models with hand-set weights, whose outputs a test can work out on paper."""

import torch

from engine.models.base import ModelAdapter, Track, TrackTable


class CountingModel(ModelAdapter):
    """Hand-set weights: per 16 bp output bin, a linear count of bases.

    Input 256 bp, 32 bp cropped each side, 12 bins. Tracks: ``gc`` (G + C, unstranded),
    ``a`` (A, declared unstranded although it is not strand-symmetric), and a stranded pair
    ``a.plus`` (A) / ``a.minus`` (T, the A of the other strand). Each output bin depends only on
    its own 16 bp, so an edit changes only the bins it touches.
    """

    WEIGHTS = torch.tensor([[0, 1, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]).T.float()

    def __init__(self) -> None:
        self.name, self.device = "counting", torch.device("cpu")
        self.sequence_length, self.bin_size, self.crop_bp = 256, 16, 32
        self.tracks = TrackTable(
            [
                Track("gc", strand=".", strand_pair=0),
                Track("a", strand=".", strand_pair=1),
                Track("a.plus", strand="+", strand_pair=3),
                Track("a.minus", strand="-", strand_pair=2),
            ]
        )
        self.shapes: list[tuple[int, ...]] = []

    def predict(self, onehot, tracks=None):
        x = self.check_input(onehot)
        self.shapes.append(tuple(x.shape))
        core = x[:, self.crop_bp : self.sequence_length - self.crop_bp]  # (B, 192, 4)
        per_bin = core.reshape(len(x), self.output_bins, self.bin_size, 4).sum(dim=2)
        out = per_bin @ self.WEIGHTS  # (B, bins, T)
        return out if tracks is None else out[:, :, list(tracks)]

    def embed(self, onehot):
        raise NotImplementedError

    @property
    def attention_layers(self):
        return 0

    def attention(self, onehot, layer):
        raise NotImplementedError
