import platform

import numpy as np
import pytest
import torch

from engine.errors import InputError
from engine.models import runtime


def test_out_of_memory_halves_the_batch_until_it_fits():
    seen = []

    def fn(batch):
        seen.append(len(batch))
        if len(batch) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return batch * 2

    out = runtime.run_batched(fn, torch.arange(7.0), batch_size=8)
    assert torch.equal(out, torch.arange(7.0) * 2)
    assert seen[:3] == [7, 4, 2] and set(seen[3:]) <= {2, 1}


def test_out_of_memory_at_batch_one_is_a_clear_error():
    def fn(batch):
        raise torch.OutOfMemoryError("CUDA out of memory")

    with pytest.raises(InputError, match="does not fit in GPU memory"):
        runtime.run_batched(fn, torch.zeros(3), batch_size=2)


def test_packed_batches_fill_the_budget_without_splitting_an_item():
    seen = []

    def fn(items):
        seen.append(items.tolist())
        return items * 10

    costs = np.array([1, 1, 1, 2, 1, 2, 2, 1, 1, 3])  # the 3 exceeds the budget: alone
    out = runtime.run_packed(fn, torch.arange(10), costs, budget=4)
    assert torch.equal(out, torch.arange(10) * 10)
    assert seen == [[0, 1, 2], [3, 4], [5, 6], [7, 8], [9]]
    assert all(costs[batch].sum() <= 4 or len(batch) == 1 for batch in seen)


def test_packed_batches_halve_on_out_of_memory_and_fail_clearly_at_one_item():
    seen = []

    def fn(items):
        seen.append(len(items))
        if costs[items.numpy()].sum() > 2:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return items

    costs = np.ones(5, dtype=np.int64)
    assert torch.equal(runtime.run_packed(fn, torch.arange(5), costs, budget=8), torch.arange(5))
    assert seen[:3] == [5, 4, 2]
    costs = np.array([3])
    with pytest.raises(InputError, match="does not fit in GPU memory"):
        runtime.run_packed(fn, torch.arange(1), costs, budget=8)


def test_models_load_once_per_process(tiny_yeast_dir):
    from engine.io.files import sha256_file
    from engine.training.data import strand_pairs, track_ids

    spec = {
        "name": "tiny",
        "architecture": "yeast",
        "reverse_complement": True,
        "genome": "mini",
        "replicates": [
            {
                "path": str(tiny_yeast_dir),
                "sha256": sha256_file(tiny_yeast_dir / "model.safetensors"),
            }
        ],
        "tracks": [
            {"identifier": t, "strand_pair": p}
            for t, p in zip(track_ids(), strand_pairs(), strict=True)
        ],
    }
    runtime._CACHE.clear()
    first = runtime.load_replicates(spec)
    assert runtime.load_replicates(spec)[0] is first[0]
    model = runtime.ensemble(spec, reverse_complement=False)
    assert model.passes_per_sequence == 1
    assert runtime.ensemble(spec).passes_per_sequence == 2  # RC is the model's default


def test_the_cpu_allocator_keeps_freed_memory_where_the_c_library_is_glibc():
    assert runtime.keep_freed_memory() is (platform.libc_ver()[0] == "glibc")
