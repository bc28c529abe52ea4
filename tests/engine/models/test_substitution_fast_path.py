"""The fast path for substitutions (``predict_substitutions``) equals whole-window prediction.

It recomputes the convolutional tower only around the changed bases, so its failure modes are
positional: changes at the window's edges (where the full convolutions zero-pad), next to a
pooling boundary, several bases wide, and moved by the ensemble's shifts and reverse complement.
"""

import pytest
import torch

from engine.models.ensemble import Ensemble
from engine.models.yeast import YeastAdapter

LENGTH = 1024  # the tiny fixture model's input


@pytest.fixture
def adapter(tiny_yeast_dir) -> YeastAdapter:
    return YeastAdapter(tiny_yeast_dir)


def random_onehot(windows: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    bases = torch.randint(0, 4, (windows, LENGTH), generator=generator)
    return torch.nn.functional.one_hot(bases, 4).float()


def substituted(refs: torch.Tensor, group: list[int], first: list[int], width: int, seed: int):
    """Each reference of ``group`` with ``width`` bases from ``first`` changed (all differ)."""
    alt = refs[group].clone()
    generator = torch.Generator().manual_seed(seed)
    for row, start in enumerate(first):
        for position in range(start, start + width):
            current = int(alt[row, position].argmax())
            new = (current + int(torch.randint(1, 4, (1,), generator=generator))) % 4
            alt[row, position] = torch.nn.functional.one_hot(torch.tensor(new), 4).float()
    return alt


EDGES_AND_MIDDLE = [0, 1, 2, 6, 7, 8, 127, 128, 129, 511, 512, 900, 1015, 1016, 1021, 1022, 1023]


@pytest.mark.parametrize("width", [1, 2, 5])
def test_the_fast_path_equals_whole_window_prediction(adapter, width):
    refs = random_onehot(3, seed=width)
    first = [min(p, LENGTH - width) for p in EDGES_AND_MIDDLE]
    group = [i % 3 for i in range(len(first))]
    alt = substituted(refs, group, first, width, seed=width)
    with torch.inference_mode():
        reference, state = adapter.predict_reference(refs)
        fast = adapter.predict_substitutions(
            state, torch.tensor(group), alt, torch.tensor(first), width
        )
        plain = adapter.predict(alt)
        unchanged = adapter.predict(refs[group])
    torch.testing.assert_close(reference, adapter.predict(refs), rtol=0, atol=0)
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-6)
    # the changes do move the prediction, far beyond the tolerance, at every position
    moved = (plain - unchanged).abs().amax(dim=(1, 2))
    assert (moved > 1e-4).all(), moved  # 100× the tolerance, even at the edges


def test_a_stretch_wider_than_the_change_gives_the_same_result(adapter):
    """``width`` is an upper bound (one per batch): over-covering unchanged bases is harmless."""
    refs = random_onehot(1, seed=4)
    alt = substituted(refs, [0, 0], [300, 1023], 1, seed=4)
    with torch.inference_mode():
        _, state = adapter.predict_reference(refs)
        fast = adapter.predict_substitutions(
            state, torch.tensor([0, 0]), alt, torch.tensor([296, 1015]), 9
        )
    torch.testing.assert_close(fast, adapter.predict(alt), rtol=1e-5, atol=1e-6)


def test_the_ensemble_fast_path_follows_shifts_and_reverse_complement(adapter):
    ensemble = Ensemble([adapter, adapter], reverse_complement=True, shifts=(0, 3, -5))
    refs = random_onehot(2, seed=7)
    first = [0, 2, 500, 1019, 1021, 1023]
    group = [0, 1, 0, 1, 0, 1]
    alt = substituted(refs, group, first, 1, seed=7)
    tracks = [0, 3, 5]
    with torch.inference_mode():
        reference, state = ensemble.predict_reference(refs, tracks)
        fast = ensemble.predict_substitutions(
            state, torch.tensor(group), alt, torch.tensor(first), 1, tracks
        )
        plain = ensemble.predict(alt, tracks)
    torch.testing.assert_close(reference, ensemble.predict(refs, tracks), rtol=0, atol=0)
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-6)


def test_the_demo_model_fast_path_equals_whole_windows_on_yeast_sequence():
    """The shipped weights, a real promoter, every base of a 16 bp stretch mutated."""
    from pathlib import Path

    from engine.io.encoding import one_hot
    from engine.io.fasta import Genome
    from engine.io.intervals import Interval

    root = Path(__file__).resolve().parents[3]
    model = YeastAdapter(root / "data/models/yeast-demo")
    genome = Genome(root / "data/yeast/sacCer3.fa.gz")
    text = genome.fetch(Interval("XII", 450_000, 450_000 + model.sequence_length))
    refs = torch.from_numpy(one_hot(text))[None]
    first = list(range(4000, 4016))
    alt = substituted(refs, [0] * len(first), first, 1, seed=1)
    with torch.inference_mode():
        _, state = model.predict_reference(refs)
        fast = model.predict_substitutions(
            state, torch.zeros(len(first), dtype=torch.long), alt, torch.tensor(first), 1
        )
        plain = model.predict(alt)
    torch.testing.assert_close(fast, plain, rtol=1e-4, atol=1e-5)
