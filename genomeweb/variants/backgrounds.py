"""Registering a model's score background (``engine.variants.background``): the file its jobs'
percentiles and beyond-noise flags are read against."""

from pathlib import Path

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
        about=background.about | {"noise": _noise_table(background)},
    )


def current_background(predictor: Predictor) -> ScoreBackground | None:
    """The newest: the one new jobs use."""
    return predictor.score_backgrounds.order_by("-created", "-pk").first()


def _noise_table(background: Background) -> dict:
    """track → scorer → the placement noise (|score| a window shift alone reaches, 95 %)."""
    return {
        track: {
            scorer: round(float(background.noise[t, s]), 6)
            for s, scorer in enumerate(background.scorers)
        }
        for t, track in enumerate(background.track_ids)
    }
