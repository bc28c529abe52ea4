"""ISM labels the stretch a model reads with the JASPAR motif it reads there."""

import numpy as np
import torch

from engine.interpret.motifs import load_matrices
from engine.interpret.objectives import track_objective
from engine.io.intervals import Interval
from engine.pipeline.ism import run_ism
from tests.engine.hand_models import CountingModel
from tests.engine.variants.test_variant_effects import random_dna, write_genome

PLANTED = 100


class MotifReader(CountingModel):
    """Every track of every bin is the log-odds score of one position weight matrix read at
    a fixed place: a model that has learned exactly one binding site."""

    def __init__(self, log_odds: np.ndarray) -> None:
        super().__init__()
        self.log_odds = torch.tensor(
            log_odds, dtype=torch.float32
        )  # a copy: the cached matrix is read-only

    def predict(self, onehot, tracks=None):
        x = self.check_input(onehot)
        site = x[:, PLANTED : PLANTED + len(self.log_odds)]
        score = (site * self.log_odds).sum(dim=(1, 2))
        out = score[:, None, None].expand(len(x), self.output_bins, len(self.tracks.tracks))
        return out if tracks is None else out[:, :, list(tracks)]


def test_the_motif_the_model_reads_labels_the_ism_and_its_figure(tmp_path):
    fungi = load_matrices("fungi")
    gal4 = next(m for m in fungi if m.name == "GAL4")
    consensus = "".join("ACGT"[i] for i in gal4.log_odds.argmax(axis=1))
    sequence = random_dna(256, 11)
    sequence = sequence[:PLANTED] + consensus + sequence[PLANTED + len(consensus) :]
    write_genome(tmp_path / "site.fa", {"R": sequence})
    model, window = MotifReader(gal4.log_odds), Interval("R", 0, 256)
    region = Interval("R", 70, 150)
    objective = track_objective(model, window, [0], None, log=False)

    output = run_ism(
        model,
        tmp_path / "site.fa",
        region,
        window,
        objective,
        tmp_path,
        lambda done, total: None,
        motif_matrices=fungi,
    )

    best = output.summary["motifs"][0]
    assert best["label"] == f"GAL4 ({gal4.matrix_id})" and best["strand"] == "+"
    assert (best["start"], best["end"]) == (PLANTED, PLANTED + gal4.width)
    assert best["relative"] == 1.0
    bed = (tmp_path / "motifs.bed").read_text().splitlines()
    assert f"R\t{PLANTED}\t{PLANTED + gal4.width}\tGAL4 ({gal4.matrix_id})\t1000\t+" in bed
    assert f"GAL4 ({gal4.matrix_id})" in (tmp_path / "ism.svg").read_text()
    assert (tmp_path / "ism.png").read_bytes().startswith(b"\x89PNG")
    names = {path.name for path, _, _ in output.files}
    assert {"ism.npz", "ism_mean.bw", "ism.svg", "ism.png", "motifs.bed"} == names


def test_without_matrices_nothing_is_labelled(tmp_path):
    write_genome(tmp_path / "plain.fa", {"R": random_dna(256, 3)})
    model = CountingModel()
    window = Interval("R", 0, 256)
    objective = track_objective(model, window, [0], None, log=False)
    output = run_ism(
        model,
        tmp_path / "plain.fa",
        Interval("R", 100, 120),
        window,
        objective,
        tmp_path,
        lambda done, total: None,
    )
    assert output.summary["motifs"] == [] and (tmp_path / "motifs.bed").read_text() == ""
