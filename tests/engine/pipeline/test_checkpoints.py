"""Scoring in checkpointed chunks: the same scores as in one go, and a resumed run redoes only
the chunks it cannot find."""

import numpy as np
import pytest

from engine.io.vcf import Variant
from engine.pipeline.scoring import score_alleles, score_alleles_checkpointed
from tests.engine.hand_models import CountingModel

SCORING = {"scorers": ["SUM", "logSED"], "tracks": [0, 2, 3], "genes": None}


@pytest.fixture
def snvs(tmp_path):
    """60 SNVs, sorted, over 20 kb of random sequence, with the genome's REF."""
    rng = np.random.default_rng(11)
    sequence = "".join(rng.choice(list("ACGT"), 20_000))
    fasta = tmp_path / "random.fa"
    fasta.write_text(f">T\n{sequence}\n")
    positions = sorted(rng.choice(np.arange(300, 19_700), 60, replace=False).tolist())
    variants = [
        Variant("T", p, sequence[p], "A" if sequence[p] != "A" else "C", f"v{i}", i + 1)
        for i, p in enumerate(positions)
    ]
    return fasta, variants


def test_chunks_give_the_scores_of_one_run(snvs, tmp_path):
    fasta, variants = snvs
    whole = score_alleles(CountingModel(), fasta, variants, **SCORING)
    chunked = score_alleles_checkpointed(
        CountingModel(), fasta, variants, folder=tmp_path / "ck", chunk_alleles=7, **SCORING
    )
    assert len(list((tmp_path / "ck").glob("chunk-*.npz"))) >= 60 // 7
    np.testing.assert_array_equal(chunked.scores.scores, whole.scores.scores)
    assert chunked.scores.variants == whole.scores.variants
    assert chunked.passes == whole.passes


def test_a_resumed_run_scores_only_the_chunks_it_lacks(snvs, tmp_path):
    fasta, variants = snvs
    folder = tmp_path / "ck"
    first = score_alleles_checkpointed(
        CountingModel(), fasta, variants, folder=folder, chunk_alleles=10, **SCORING
    )
    chunks = sorted(folder.glob("chunk-*.npz"), key=lambda p: int(p.name.split("-")[1]))
    lost = chunks[-1]  # as if the crash came while scoring the last chunk
    lost.unlink()
    (folder / f".{lost.name}.tmp").write_bytes(b"half a file")  # what the crash left

    model, reported, started = CountingModel(), [], []
    resumed = score_alleles_checkpointed(
        model,
        fasta,
        variants,
        folder=folder,
        chunk_alleles=10,
        progress=lambda done, total: reported.append((done, total)),
        starting=started.append,
        **SCORING,
    )
    np.testing.assert_array_equal(resumed.scores.scores, first.scores.scores)
    first_record, stop = (int(x) for x in lost.stem.split("-")[1:])
    assert len(started) == 1 and started[0].startswith(f"records {first_record + 1}-{stop} (")
    scored_again = sum(shape[0] for shape in model.shapes)  # sequences through the model
    assert 0 < scored_again <= 4 * (stop - first_record)  # ref + alt, both strands at most
    assert [done for done, _ in reported] == sorted(done for done, _ in reported)
    # the loaded chunks count at once; the bar then only moves on
    assert (first_record, 60) in reported and reported[-1] == (60, 60)
