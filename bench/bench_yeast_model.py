"""Speed of the yeast demo model on this machine; prints JSON.

    .venv/bin/python bench/bench_yeast_model.py [--model data/models/yeast-demo] [--repeats 3]

Measures batched inference in windows per second (fp32, and bf16 autocast), then the wall time
of predict_region over chromosome XII with reverse-complement averaging (what
``manage.py predict_tracks --region XII`` runs).
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.io.fasta import Genome  # noqa: E402
from engine.io.intervals import Interval  # noqa: E402
from engine.models.ensemble import Ensemble  # noqa: E402
from engine.models.regions import predict_region  # noqa: E402
from engine.models.yeast import YeastAdapter  # noqa: E402


def windows_per_second(adapter: YeastAdapter, batch: int, repeats: int, bf16: bool) -> float:
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (batch, adapter.sequence_length)), 4)
    x = x.float()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        adapter.predict(x)  # warm-up
        began = time.perf_counter()
        for _ in range(repeats):
            adapter.predict(x)
    return batch * repeats / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / "data/models/yeast-demo")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    adapter = YeastAdapter(args.model)
    result = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "window_bp": adapter.sequence_length,
    }
    for batch in (1, 8, 32):
        for bf16 in (False, True):
            key = f"windows_per_s_batch{batch}_{'bf16' if bf16 else 'fp32'}"
            result[key] = round(windows_per_second(adapter, batch, args.repeats, bf16), 1)
    genome = Genome(ROOT / "data/yeast/sacCer3.fa.gz")
    began = time.perf_counter()
    values = predict_region(
        Ensemble([adapter]), genome, Interval("XII", 0, genome.contig_lengths["XII"]), batch_size=16
    )
    result["predict_region_XII_rc_seconds"] = round(time.perf_counter() - began, 1)
    result["predict_region_XII_bins"] = int(values.shape[0])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
