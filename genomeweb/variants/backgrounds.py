"""Registering a model's score background (``engine.variants.background``): the file its jobs'
percentiles and beyond-noise flags are read against."""

from pathlib import Path

import numpy as np

from engine.io.files import sha256_file
from engine.variants.background import Background
from genomeweb.catalog.loading import stored_path
from genomeweb.catalog.models import Predictor
from genomeweb.variants.models import ScoreBackground


def register_background(predictor: Predictor, path: Path) -> ScoreBackground:
    """Make the background at ``path`` the model's current one (the same file twice is one row).

    Raises:
        ValueError: it was built with other weights, or for tracks the model does not have.
    """
    background = Background.load(path)
    built_with = background.about.get("weights_sha256")
    registered = [replicate["sha256"] for replicate in predictor.replicates]
    if built_with != registered:
        raise ValueError(
            f"{path.name} was built with other weights than {predictor.name}'s; build it again "
            "with manage.py build_background"
        )
    unknown = set(background.track_ids) - set(predictor.tracks.values_list("identifier", flat=True))
    if unknown:
        raise ValueError(f"{path.name} has tracks {predictor.name} lacks: {sorted(unknown)[:5]}")
    sha256 = sha256_file(path)
    newest = current_background(predictor)
    if newest is not None and newest.sha256 == sha256:
        return newest
    return ScoreBackground.objects.create(
        predictor=predictor,
        path=stored_path(path),
        sha256=sha256,
        snvs=len(background.strata),
        description=background.describe(),
        about=background.about
        | {"scorers": background.scorers}
        | {"noise": _noise_table(background), "cutoffs": _cutoff_table(background)},
    )


def current_background(predictor: Predictor) -> ScoreBackground | None:
    """The newest: the one new jobs use."""
    return predictor.score_backgrounds.order_by("-created", "-pk").first()


CUTOFF_PERCENTILES = (95, 99)
SHOWN_TRACKS = 50  # a model page lists the cut-offs of this many tracks (Borzoi has 7,611)


def calibration_summary(predictor: Predictor) -> dict | None:
    """What a model page says of its current background: the row, and per track its noise and
    the ``|score|`` at each ``CUTOFF_PERCENTILES`` of random SNVs (all strata), per scorer."""
    row = current_background(predictor)
    if row is None:
        return None
    noise, cutoffs = row.about.get("noise", {}), row.about.get("cutoffs", {})
    scorers = row.about.get("scorers") or sorted({s for t in noise.values() for s in t})
    tracks = [
        {
            "track": track,
            "cells": [
                {"noise": noise[track].get(s), "cutoffs": cutoffs.get(track, {}).get(s, [])}
                for s in scorers
            ],
        }
        for track in list(noise)[:SHOWN_TRACKS]
    ]
    return {
        "row": row,
        "scorers": scorers,
        "tracks": tracks,
        "more": max(0, len(noise) - SHOWN_TRACKS),
        "percentiles": CUTOFF_PERCENTILES,
    }


def _cutoff_table(background: Background) -> dict:
    """track → scorer → ``|score|`` at each of ``CUTOFF_PERCENTILES`` over all its SNVs."""
    magnitude = np.abs(background.values)  # (N, T, S)
    found = np.nanpercentile(magnitude, CUTOFF_PERCENTILES, axis=0)  # (P, T, S)
    return {
        track: {
            scorer: [round(float(v), 6) for v in found[:, t, s]]
            for s, scorer in enumerate(background.scorers)
        }
        for t, track in enumerate(background.track_ids)
    }


def _noise_table(background: Background) -> dict:
    """track → scorer → the placement noise (|score| a window shift alone reaches, 95 %)."""
    return {
        track: {
            scorer: round(float(background.noise[t, s]), 6)
            for s, scorer in enumerate(background.scorers)
        }
        for t, track in enumerate(background.track_ids)
    }
