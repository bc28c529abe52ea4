"""Train the yeast demo model on STRIPE-seq TSS coverage.

    python -m engine.training.train --data data/yeast --out var/training/run1 --seed 17

Seeded; uses a GPU when one is present (bf16 autocast), else the CPU (float32). Model selection
uses only the validation chromosomes (XI, XIII, XV); the test chromosomes are never read here.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from engine.models.runtime import autocast, autocast_dtype
from engine.models.tiling import codes_to_onehot, tile_region
from engine.models.yeast_net import POOLS, YeastNet, YeastNetConfig
from engine.training.data import (
    TEST_CHROMS,
    VALID_CHROMS,
    YeastData,
    strand_pairs,
    track_ids,
    train_chroms,
    window_codes,
    window_counts,
)
from engine.training.metrics import TSS_WINDOW, group_means, sample_pearsons

logger = logging.getLogger("train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/yeast"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--max-minutes", type=float, default=0, help="stop early (0: no limit)")
    parser.add_argument(
        "--fit-minutes",
        type=float,
        default=0,
        help="after two epochs, plan only as many epochs as fit in this many minutes (the "
        "cosine schedule then ends when the time does; 0: train --epochs)",
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--sequence-length", type=int, default=8192)
    parser.add_argument("--crop-bp", type=int, default=1024)
    parser.add_argument("--dropout", type=float, default=0.1, help="transformer dropout")
    parser.add_argument("--conv-dropout", type=float, default=0.0, help="conv tower dropout")
    parser.add_argument(
        "--jitter-bp",
        type=int,
        default=0,
        help="shift each training sequence by up to this many bp against its "
        "targets (robustness to sub-bin placement)",
    )
    parser.add_argument(
        "--pool", choices=POOLS, default="max", help="the tower's pooling (blur: anti-aliased)"
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="start from this model folder's weights (config.json + model.safetensors; its "
        "geometry must match) instead of a random initialisation: fine-tuning, e.g. a max-pool "
        "model into an anti-aliased one (pooling has no weights)",
    )
    parser.add_argument(
        "--consistency",
        type=float,
        default=0.0,
        help="weight of a loss between the log predictions of two independently jittered "
        "copies of each window (0: one copy, no such loss)",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def seed_everything(seed: int) -> np.random.Generator:
    random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def sample_batch(
    data: YeastData,
    chroms: list[str],
    config: YeastNetConfig,
    size: int,
    rng: np.random.Generator,
    jitter_bp: int = 0,
    copies: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows on the bin grid, half of them reverse-complemented (strands swapped),
    each sequence shifted by up to ``jitter_bp`` against its targets.

    Returns:
        One-hots ``(copies * size, L, 4)``, copy-major (each copy of the ``size`` windows with
        its own jitter), and their targets ``(size, bins, tracks)``.
    """
    lengths = np.array([len(data.codes[c]) for c in chroms], dtype=float)
    picks = rng.choice(len(chroms), size=size, p=lengths / lengths.sum())
    windows, counts = [], []
    pairs = strand_pairs()
    # The first copy draws from rng in the order single-copy training always has (bin, jitter,
    # strand), so earlier runs reproduce; further copies draw their jitter afterwards.
    for pick in picks:
        chrom = chroms[pick]
        first_bin = int(rng.integers(0, len(data.counts[chrom]) - config.output_bins + 1))
        start = first_bin * config.bin_size - config.crop_bp
        shift = _jitter(rng, jitter_bp)
        flip = rng.random() < 0.5
        target = window_counts(data.counts[chrom], first_bin, config.output_bins)
        windows.append((data.codes[chrom], start, flip, shift))
        counts.append((target[::-1, pairs] if flip else target).copy())
    shifts = [[window[3] for window in windows]]
    shifts += [[_jitter(rng, jitter_bp) for _ in windows] for _ in range(copies - 1)]
    sequences = [
        _window_sequence(chrom_codes, start + shift, flip, config.sequence_length)
        for copy_shifts in shifts
        for (chrom_codes, start, flip, _), shift in zip(windows, copy_shifts, strict=True)
    ]
    return codes_to_onehot(np.stack(sequences)), torch.from_numpy(np.stack(counts))


def _jitter(rng: np.random.Generator, jitter_bp: int) -> int:
    return int(rng.integers(-jitter_bp, jitter_bp + 1)) if jitter_bp else 0


def _window_sequence(codes: np.ndarray, start: int, flip: bool, length: int) -> np.ndarray:
    seq = window_codes(codes, start, length)
    return (np.where(seq < 4, 3 - seq, seq)[::-1] if flip else seq).copy()


def loss_fn(predicted: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """MSE of log1p counts: what the model card's Pearson measures, robust to huge peaks."""
    return torch.mean((torch.log1p(predicted.float()) - torch.log1p(observed)) ** 2)


def paired_loss(predicted: torch.Tensor, observed: torch.Tensor, weight: float) -> torch.Tensor:
    """``loss_fn`` over every copy of the windows, plus ``weight`` × the MSE between the log1p
    predictions of the copies (consecutive blocks of ``len(observed)``): predictions that move
    when only the sub-bin placement moved are penalised directly."""
    copies = predicted.shape[0] // observed.shape[0]
    blocks = predicted.float().split(observed.shape[0])  # copies × (B, bins, T)
    fit = sum(loss_fn(block, observed) for block in blocks) / copies
    if copies < 2 or not weight:
        return fit
    logs = [torch.log1p(block) for block in blocks]
    spread = sum(torch.mean((a - b) ** 2) for a, b in zip(logs[:-1], logs[1:], strict=True))
    return fit + weight * spread / (copies - 1)


def validate(model: YeastNet, data: YeastData, device: torch.device) -> dict:
    model.eval()
    config = model.config
    predicted = {}
    for chrom in VALID_CHROMS:
        predicted[chrom] = tile_region(
            lambda x: _forward(model, x, device),
            data.codes[chrom],
            0,
            len(data.codes[chrom]),
            sequence_length=config.sequence_length,
            crop_bp=config.crop_bp,
            bin_size=config.bin_size,
            batch_size=32,
        )
    model.train()
    per_sample = sample_pearsons(data.counts, predicted, VALID_CHROMS, track_ids())
    return group_means(per_sample)


def _forward(model: YeastNet, x: torch.Tensor, device: torch.device) -> torch.Tensor:
    # bf16 on a GPU only: on a CPU without bf16 matrix units a training step took 25 s in bf16
    # against 3.4 s in fp32 (2-core AMD EPYC, batch 16 of 8,192 bp)
    with autocast(device):
        return model(x.to(device))


def learning_rate(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * progress))


def _step(model, optimizer, data, chroms, rng, args, device) -> float:
    """One optimiser step on a fresh batch (two jittered copies of it with a consistency
    weight); returns its loss."""
    copies = 2 if args.consistency else 1
    x, y = sample_batch(data, chroms, model.config, args.batch_size, rng, args.jitter_bp, copies)
    loss = paired_loss(_forward(model, x, device), y.to(device), args.consistency)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.item()


def epochs_that_fit(planned: int, budget_minutes: float, epoch_minutes: float) -> int:
    """At most ``planned`` epochs, and no more than ``budget_minutes`` of them."""
    return max(2, min(planned, int(budget_minutes / max(epoch_minutes, 1e-9))))


def save_checkpoint(model: YeastNet, out: Path, summary: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, out / "model.safetensors")
    config = model.config.to_dict() | {
        "track_ids": track_ids(),
        "strand_pairs": strand_pairs(),
        # STRIPE-seq counts starts, upstream of the annotated (coding) start: genes are scored
        # over the same window as the card's gene-level accuracy
        "gene_region": TSS_WINDOW.to_config(),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    (out / "training.json").write_text(json.dumps(summary, indent=2))


def load_initial_weights(model: YeastNet, directory: Path) -> None:
    """``directory``'s weights into ``model`` (stored float16 or float32; every tensor must
    match by name and shape)."""
    weights = load_file(directory / "model.safetensors")
    model.load_state_dict({k: v.to(model.state_dict()[k].dtype) for k, v in weights.items()})


def train(args: argparse.Namespace) -> None:
    rng = seed_everything(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = YeastData.load(args.data)
    chroms = train_chroms(list(data.codes))
    assert not set(chroms) & set(TEST_CHROMS + VALID_CHROMS)
    config = YeastNetConfig(
        sequence_length=args.sequence_length,
        crop_bp=args.crop_bp,
        dropout=args.dropout,
        conv_dropout=args.conv_dropout,
        pool=args.pool,
    )
    model = YeastNet(config)
    if args.init_from:
        load_initial_weights(model, args.init_from)
    model = model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    train_bp = sum(len(data.codes[c]) for c in chroms)
    steps_per_epoch = math.ceil(train_bp / (config.output_bins * config.bin_size) / args.batch_size)
    planned = args.epochs
    best, history, began, step, epoch = -1.0, [], time.monotonic(), 0, 0
    while epoch < planned:
        losses = []
        for _ in range(steps_per_epoch):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(
                    step, steps_per_epoch * planned, args.lr, warmup=2 * steps_per_epoch
                )
            losses.append(_step(model, optimizer, data, chroms, rng, args, device))
            step += 1
        scores = validate(model, data, device)
        minutes = (time.monotonic() - began) / 60
        history.append(
            {
                "epoch": epoch + 1,
                "loss": float(np.mean(losses)),
                "valid": scores,
                "minutes": round(minutes, 2),
            }
        )
        logger.info("%s", json.dumps(history[-1]))
        if scores["WT"] > best:
            best = scores["WT"]
            summary = {
                "args": {k: str(v) for k, v in vars(args).items()},
                "best_epoch": epoch + 1,
                "best_valid": scores,
                "history": history,
                "device": str(device),
                "precision": "bf16 autocast" if autocast_dtype(device) else "float32",
                "parameters": sum(p.numel() for p in model.parameters()),
            }
            save_checkpoint(model, args.out, summary)
        epoch += 1
        if epoch == 2 and args.fit_minutes:
            planned = epochs_that_fit(planned, args.fit_minutes, minutes / 2)
            logger.info("planning %d epochs to fit %.1f minutes", planned, args.fit_minutes)
        if args.max_minutes and minutes > args.max_minutes:
            logger.info("time budget reached after epoch %d", epoch)
            break
    summary_path = args.out / "training.json"
    summary = json.loads(summary_path.read_text())
    summary["history"] = history
    summary["planned_epochs"] = planned
    summary_path.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    train(parse_args())
