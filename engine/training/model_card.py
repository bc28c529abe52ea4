"""Write MODEL_CARD.md for a trained yeast model from its training.json and metrics.json, so
every number in the card is the one the committed commands produced.

    python -m engine.training.model_card data/models/yeast-demo
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from engine.training.data import TEST_CHROMS, VALID_CHROMS


def pct(value: float) -> str:
    return f"{value:.3f}"


def metric_rows(metrics: dict) -> list[str]:
    rows = []
    for label, key in (
        ("model, RC averaging (default)", "model_rc"),
        ("model, forward strand only", "model_forward_only"),
    ):
        m = metrics[key]
        rows.append(
            f"| {label} | {pct(m['bins_32bp']['WT'])} | {pct(m['bins_32bp']['diamide'])} "
            f"| {pct(m['gene_level']['WT'])} | {pct(m['gene_level']['diamide'])} |"
        )
    rep = metrics["replicate_WT1_vs_WT2"]
    rows.append(
        f"| replicate WT_1 vs WT_2 | {pct(rep['bins_32bp'])} | — | {pct(rep['gene_level'])} | — |"
    )
    base = metrics["baseline_distance_to_tss"]
    rows.append(
        f"| baseline: profile by distance to gene start | {pct(base['bins_32bp']['WT'])} "
        f"| {pct(base['bins_32bp']['diamide'])} | {pct(base['gene_level']['WT'])} "
        f"| {pct(base['gene_level']['diamide'])} |"
    )
    return rows


TRAIN_FLAGS = (
    "data",
    "out",
    "seed",
    "epochs",
    "max_minutes",
    "batch_size",
    "lr",
    "weight_decay",
    "sequence_length",
    "crop_bp",
    "dropout",
    "conv_dropout",
    "jitter_bp",
)


def train_command(args: dict) -> str:
    """The exact training command, rebuilt from the arguments training.json recorded."""
    flags = " ".join(
        f"--{name.replace('_', '-')} {args[name]}" for name in TRAIN_FLAGS if name in args
    )
    return f".venv/bin/python -m engine.training.train {flags}"


def render(directory: Path) -> str:
    config = json.loads((directory / "config.json").read_text())
    training = json.loads((directory / "training.json").read_text())
    metrics = json.loads((directory / "metrics.json").read_text())
    args = training["args"]
    per_chrom = metrics["model_rc"]["per_chromosome_32bp"]
    template = (Path(__file__).with_name("MODEL_CARD.template.md")).read_text()
    return template.format(
        parameters=f"{training['parameters']:,}",
        sequence_length=f"{config['sequence_length']:,}",
        crop_bp=f"{config['crop_bp']:,}",
        output_bins=(config["sequence_length"] - 2 * config["crop_bp"]) // 32,
        layers=config["transformer_layers"],
        heads=config["heads"],
        tower=", ".join(str(c) for c in [config["stem_channels"], *config["tower_channels"]]),
        test=", ".join(TEST_CHROMS),
        valid=", ".join(VALID_CHROMS),
        epochs=args["epochs"],
        best_epoch=training["best_epoch"],
        seed=args["seed"],
        batch=args["batch_size"],
        lr=args["lr"],
        device=training["device"],
        # training.json has recorded its precision since CPU training moved to float32
        precision=training.get("precision", "bf16 autocast"),
        weight_decay=args.get("weight_decay", ""),
        dropout=args.get("dropout", ""),
        conv_dropout=args.get("conv_dropout", "0"),
        jitter=args.get("jitter_bp", "0"),
        train_command=train_command(args),
        out=args["out"],
        minutes=training["history"][-1]["minutes"],
        trained_epochs=len(training["history"]),
        valid_wt=pct(training["best_valid"]["WT"]),
        valid_d=pct(training["best_valid"]["diamide"]),
        rows="\n".join(metric_rows(metrics)),
        genes=metrics["genes_scored"],
        per_chrom=", ".join(f"{c} {pct(v['WT'])}" for c, v in per_chrom.items()),
    )


if __name__ == "__main__":
    target = Path(sys.argv[1])
    (target / "MODEL_CARD.md").write_text(render(target))
    print(f"wrote {target / 'MODEL_CARD.md'}")
