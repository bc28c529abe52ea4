"""A model's score background, ready to calibrate scores (``engine.variants.background``)."""

from dataclasses import dataclass

from engine.errors import InputError
from engine.io.annotation import read_genes
from engine.io.files import sha256_file
from engine.variants.background import Background, calibrate_scores
from genomeweb.catalog.models import Predictor, resolve_data_path
from genomeweb.variants.backgrounds import current_background
from genomeweb.variants.models import ScoreBackground


@dataclass(frozen=True)
class ScoreCalibrator:
    """A model's background (its database row and the file) and its genome's genes."""

    row: ScoreBackground
    background: Background
    genes: list

    def calibrate(self, scores, track_ids: list[str]):
        label = f"{self.row.description}; background sha256 {self.row.sha256[:12]}"
        return calibrate_scores(scores, self.background, track_ids, self.genes, label)


def score_calibrator(predictor: Predictor, code: str | None = None) -> ScoreCalibrator | None:
    """The model's newest score background (or the one of ``code``), checked against its
    recorded sha256; None when the model has none (scores then go without percentiles)."""
    if code:
        row = ScoreBackground.objects.filter(predictor=predictor, code=code).first()
    else:
        row = current_background(predictor)
    if row is None:
        if code:
            raise InputError("The score background the parts used was deleted; score again.")
        return None
    path = resolve_data_path(row.path)
    if not path.is_file() or sha256_file(path) != row.sha256:
        raise InputError(
            f"The score background of {predictor.name} ({path.name}) is missing or was "
            "changed; an administrator must rebuild it (manage.py build_background)."
        )
    annotation = predictor.genome.annotation_path
    genes = read_genes(resolve_data_path(annotation)) if annotation else []
    return ScoreCalibrator(row, Background.load(path), genes)


def with_background(used: dict, calibrator: ScoreCalibrator | None) -> dict:
    """The model section of the provenance, naming the background that calibrated it."""
    if calibrator is None or used.get("model") is None:
        return used
    row = calibrator.row
    background = {"code": str(row.code), "sha256": row.sha256, "description": row.description}
    return used | {"model": used["model"] | {"background": background}}
