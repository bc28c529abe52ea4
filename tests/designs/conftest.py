"""A model on the mini genome and a design on it."""

import pytest

from engine.io.fasta import Genome as FastaGenome
from engine.io.intervals import Interval
from genomeweb.catalog.models import Architecture, Predictor
from genomeweb.designs.models import Design

WINDOW_LENGTH = 1000


@pytest.fixture
def predictor(genome) -> Predictor:
    return Predictor.objects.create(
        name="mini-model",
        architecture=Architecture.YEAST,
        genome=genome,
        sequence_length=WINDOW_LENGTH,
        bin_size=32,
        crop_bp=0,
    )


@pytest.fixture
def design(workspace, predictor, alice) -> Design:
    """II:1,001-2,000 (0-based [1000, 2000)), no edits, version 1."""
    return Design.start_new(
        workspace=workspace,
        user=alice,
        predictor=predictor,
        window=Interval("II", 1000, 2000),
        name="test design",
        centred_on="II:1,501",
    )


@pytest.fixture
def reference(genome) -> str:
    """The whole of contig II, to check windows against."""
    fasta = FastaGenome(genome.fasta_file)
    try:
        return fasta.fetch(Interval("II", 0, 4000))
    finally:
        fasta.close()
