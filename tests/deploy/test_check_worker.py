"""deploy/check_worker.py, the check an administrator runs on a new worker host: it reaches the
database, the broker and the storage, and finds weights or a genome that differ from the
catalog's sha256."""

import runpy
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "check_worker.py"


def run_check(capsys) -> tuple[int, list[str]]:
    try:
        runpy.run_path(str(SCRIPT))
        status = 0
    except SystemExit as exit:
        status = exit.code
    return status, capsys.readouterr().out.splitlines()


@pytest.mark.django_db
def test_a_host_with_the_catalogs_files_passes(tiny_model, capsys):
    status, lines = run_check(capsys)
    assert status == 0, lines
    assert [line.split()[:2] for line in lines[:4]] == [
        ["ok", "database"],
        ["ok", "broker"],
        ["ok", "results"],
        ["ok", "uploads"],
    ]
    assert any(line.startswith("ok  model tiny weights in ") for line in lines)
    assert any(line.startswith("ok  genome mini ") for line in lines)
    assert lines[-1] == f"all {len(lines) - 1} checks ok"


@pytest.mark.django_db
def test_weights_or_a_genome_unlike_the_catalogs_are_bad(tiny_model, tiny_yeast_dir, capsys):
    from engine.io.files import weights_file

    weights = weights_file(tiny_yeast_dir)
    weights.write_bytes(weights.read_bytes() + b"\0")  # another file at the registered path
    genome = tiny_model.genome
    genome.fasta_path = str(tiny_yeast_dir / "not-copied-here.fa.gz")
    genome.save()

    status, lines = run_check(capsys)
    assert status == 1
    (model,) = [line for line in lines if " model tiny " in line]
    assert model.startswith("BAD") and "is not the catalog's" in model
    (fasta,) = [line for line in lines if " genome mini " in line]
    assert fasta.startswith("BAD") and fasta.endswith("(missing here)")
    assert lines[-1] == f"2 of {len(lines) - 1} checks BAD"
