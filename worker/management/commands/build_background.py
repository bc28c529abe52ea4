"""``manage.py build_background``: score random SNVs once with a model, so its jobs' scores get
percentiles and beyond-noise flags (``engine.variants.background``)."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from worker.management.commands._common import find_predictor, load_model
from worker.management.commands.score_variants import DEFAULT_SCORERS


class Command(BaseCommand):
    help = (
        "Draw random SNVs from a model's genome (an equal number per distance-to-gene-start "
        "stratum), score them with the model's default settings on shared tiles and on centred "
        "windows, store the background and make it the model's current one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True)
        parser.add_argument(
            "--per-stratum",
            type=int,
            default=500,
            help="SNVs per distance stratum (4 strata; percentiles resolve 1/N of a stratum)",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--out", type=Path, help="the .npz (default: under GW_VAR_DIR)")
        parser.add_argument("--batch-size", type=int)

    def handle(self, *args, **options) -> None:
        from engine.io.annotation import read_genes
        from engine.io.fasta import Genome
        from engine.models.runtime import keep_freed_memory, scoring_batch_size
        from engine.variants.background import build_background
        from genomeweb.catalog.models import resolve_data_path
        from genomeweb.variants.backgrounds import register_background

        predictor = find_predictor(options["model"])
        if options["per_stratum"] < 1:
            raise CommandError("--per-stratum must be at least 1")
        model, _ = load_model(
            predictor, None, not predictor.reverse_complement_by_default, shifts=None
        )
        keep_freed_memory()
        annotation = predictor.genome.annotation_path
        genes = read_genes(resolve_data_path(annotation)) if annotation else []
        tracks = list(range(len(model.tracks.tracks)))
        out = options["out"] or _default_path(predictor.name)
        genome = Genome(predictor.genome.fasta_file)
        began = time.monotonic()
        try:
            background = build_background(
                model,
                genome,
                genes,
                scorers=list(DEFAULT_SCORERS),
                tracks=tracks,
                track_ids=[model.tracks.tracks[i].identifier for i in tracks],
                per_stratum=options["per_stratum"],
                seed=options["seed"],
                about={
                    "model": predictor.name,
                    "weights_sha256": [r["sha256"] for r in predictor.replicates],
                    "genome": predictor.genome.name,
                    "fasta_sha256": predictor.genome.fasta_sha256,
                    "reverse_complement": predictor.reverse_complement_by_default,
                    "shifts": list(predictor.default_shifts),
                },
                batch_size=options["batch_size"] or scoring_batch_size(model.device),
            )
        finally:
            genome.close()
        out.parent.mkdir(parents=True, exist_ok=True)
        row = register_background(predictor, background.save(out))
        seconds = time.monotonic() - began
        self.stdout.write(f"{row.description}: {out} ({seconds:.0f} s), sha256 {row.sha256}")


def _default_path(model: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return settings.VAR_DIR / "backgrounds" / f"{model}-{stamp}.npz"
