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


NOT_VALIDATED = (
    "Not validated: no measured variant effects have been compared with this model's "
    "predictions. Treat every variant effect as an unvalidated prediction."
)


def validation_text(metrics: dict) -> str:
    """``variant_level_validation`` of metrics.json in words: its status, what was measured."""
    declared = metrics.get("variant_level_validation") or {}
    if not declared.get("statement"):
        return NOT_VALIDATED
    status = "Validated." if declared.get("status") == "validated" else "Not validated."
    return f"{status} {declared['statement']}"


def proxy_text(metrics: dict) -> str:
    """The proxies ``manage.py evaluate_model --card`` stored, as a Markdown table."""
    evaluation = metrics.get("evaluation")
    if not evaluation:
        return "Not measured yet: `manage.py evaluate_model yeast-demo --card`."
    p = evaluation["variant_proxies"]
    rows = [
        f"Measured on chromosomes {', '.join(p['chromosomes'])} with "
        f"{evaluation['replicates']} replicate(s), reverse-complement averaging and no input "
        "shift (the default scoring's placement figures are in the next section), in float32; "
        f"a gene is scored over {p['gene_region']}. These test whether the model reads "
        "promoter sequence and whether its scores stay put when nothing biological changes; "
        "none of them measures a variant effect.",
        "",
        "| measure | model | reference |",
        "|---|---|---|",
    ]
    tata = p["tata_box_ranks"]
    if "genes" in tata:
        ranks = ", ".join(f"{g} {r}" for g, r in tata["genes"].items())
        rows.append(
            f"| TATA-box rank in the ISM of the {tata['positions']} bp upstream of the start "
            f"(1 = most important) | {ranks} | chance {tata['chance_rank']} |"
        )
    motif = p["motif_recovery"]
    if "segments" in motif:
        rows.append(
            f"| important promoter stretches holding a site of {', '.join(motif['factors'])} "
            f"(p < {motif['site_p']}; {motif['genes']} promoters, {motif['segments']} stretches)"
            f" | {_pct(motif['fraction_matched'])} | same lengths at random places "
            f"{_pct(motif['chance_fraction'])}; dinucleotide-shuffled promoters "
            f"{_pct(motif['shuffled_fraction_matched'])}; {_distance_only(motif)} |"
        )
    rows += _stability_rows(p["stability"])
    return "\n".join(rows)


def scoring_stability_text(metrics: dict) -> str:
    """The default scoring's placement stability (metrics.json ``scoring_stability``, written by
    ``python -m engine.variants.stability --card``), as a Markdown table."""
    s = metrics.get("scoring_stability")
    if not s:
        return "Not measured yet: `python -m engine.variants.stability --model <folder> --card`."
    genes = s.get("gene_logSED") or {}
    rows = [
        f"Scores averaged over reverse complement and input shifts of "
        f"{', '.join(map(str, s['shifts']))} bp (the default), on {s['variants']} random SNVs in "
        f"promoters of genes on chromosomes {', '.join(s['chroms'])}; nothing biological "
        "changes between the placements compared, so 1.000 is the ideal.",
        "",
        "| compared | Pearson | signs agreeing | signs agreeing, strongest 10 % |",
        "|---|---|---|---|",
    ]
    for label, found in (
        ("logSED (allele × track), window moved 7 bp", s.get("shift_0_vs_7")),
        ("logSED, centred vs shared windows", s.get("centred_vs_shared_windows")),
        ("gene-level logSED, window moved 7 bp", genes.get("shift_0_vs_7")),
        ("gene-level logSED, centred vs shared windows", genes.get("centred_vs_shared_windows")),
    ):
        if found:
            rows.append(
                f"| {label} | {pct(found['pearson'])} | {_pct(found['sign_agreement'])} "
                f"| {_pct(found['sign_agreement_top10'])} |"
            )
    return "\n".join(rows)


def deletion_far_bins_text(metrics: dict) -> str:
    """How much bins far from a deletion move against an SNV's (metrics.json
    ``deletion_far_bins``, written by ``python -m engine.variants.stability --far-bins N
    --card``), and what that means for the window-wide scores."""
    f = metrics.get("deletion_far_bins")
    if not f:
        return (
            "Not measured yet: `python -m engine.variants.stability --model <folder> "
            "--far-bins 200 --card`."
        )
    dels, snvs = f["deletions"], f["snvs"]
    near = dels["near_bins"]
    rows = [
        f"An indel's alternative is stitched from a prediction anchored left of it and one "
        f"anchored right of it, so every bin compares the same genome; bins more than {near} "
        f"bins ({near * 32:,} bp) from the variant should not move. Measured on "
        f"{dels['variants']} random 3-bp deletions and {snvs['variants']} SNVs in promoters on "
        f"chromosomes {', '.join(f['chroms'])}, windows centred on each, the default scoring "
        f"(reverse complement, shifts {', '.join(map(str, f['shifts']))} bp), every variant × "
        "track (median / 95th percentile / largest):",
        "",
        f"| bins more than {near} away | 3-bp deletions | SNVs |",
        "|---|---|---|",
    ]
    for label, key, unit in (
        ("largest change, counts", "max_abs_change", ""),
        ("largest change, fraction of the reference there", "max_relative_change", "%"),
        ("share of D1 (the sum of absolute changes)", "D1_share", "%"),
        ("share of D2² (the sum of squared changes)", "D2_squared_share", "%"),
        ("share of SUM (far sum against far plus near, both absolute)", "SUM_share", "%"),
    ):
        rows.append(f"| {label} | {_triple(dels[key], unit)} | {_triple(snvs[key], unit)} |")
    ratio = dels["max_abs_change"]["median"] / snvs["max_abs_change"]["median"]
    rows += [
        "",
        f"A deletion's far bins move {ratio:.1f}× as much as an SNV's (median largest change), "
        f"and in the median they carry {_triple(dels['D1_share'], '%').split(' / ')[0]} of its "
        f"D1 against {_triple(snvs['D1_share'], '%').split(' / ')[0]} of an SNV's. "
        "D1 and SUM add up every bin of the window, so whatever far bins move enters them in "
        "full; D2 squares each change, so many small far-bin changes weigh little against a "
        "few large near ones. logSED and logSUM sum the same bins before or after the log. "
        "Compare an indel's D1 or SUM with an SNV's only with the shares above in mind; the "
        "gene-level scores sum only the gene's own bins.",
    ]
    return "\n".join(rows)


def _triple(figures: dict, unit: str) -> str:
    values = [figures["median"], figures["p95"], figures["max"]]
    if unit == "%":
        return " / ".join(f"{100 * v:.3g} %" for v in values)
    return " / ".join(f"{v:.3g}" for v in values)


def _stability_rows(s: dict) -> list[str]:
    rows = []
    measures = [
        (
            f"logSED (allele × track, {s['variants']} promoter SNVs), window moved 7 bp",
            s.get("shift_0_vs_7"),
        ),
        ("logSED, centred vs the engine's shared windows", s.get("centred_vs_shared_windows")),
    ]
    genes = s.get("gene_logSED") or {}
    measures += [
        ("gene-level logSED, window moved 7 bp", genes.get("shift_0_vs_7")),
        ("gene-level logSED, centred vs shared windows", genes.get("centred_vs_shared_windows")),
    ]
    for label, found in measures:
        if found:
            rows.append(
                f"| {label}: Pearson (signs agreeing) | {pct(found['pearson'])} "
                f"({_pct(found['sign_agreement'])}) | 1.000 if placement did not matter |"
            )
    replicates = s.get("replicate_pearson")
    rows.append(
        "| replicate agreement (mean pairwise Pearson of logSED) | "
        + (f"{pct(replicates)} |  |" if replicates is not None else "— (one replicate) |  |")
    )
    return rows


def _distance_only(motif: dict) -> str:
    if not motif.get("distance_only_segments"):
        return "a distance-only profile (the promoters' mean importance) marks no stretch"
    return f"distance-only profile {_pct(motif['distance_only_fraction_matched'])}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


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
        validation=validation_text(metrics),
        proxies=proxy_text(metrics),
        scoring_stability=scoring_stability_text(metrics),
        deletion_far_bins=deletion_far_bins_text(metrics),
    )


if __name__ == "__main__":
    target = Path(sys.argv[1])
    (target / "MODEL_CARD.md").write_text(render(target))
    print(f"wrote {target / 'MODEL_CARD.md'}")
