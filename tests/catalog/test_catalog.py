from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from genomeweb.catalog.models import Gene, Genome
from genomeweb.catalog.views import search_genes

YEAST = Path(settings.BASE_DIR) / "data" / "yeast"


def test_the_real_yeast_genome_and_genes_load(db):
    call_command(
        "load_genome", "sacCer3", fasta=YEAST / "sacCer3.fa.gz", annotation=YEAST / "genes_R64.gff3"
    )
    genome = Genome.objects.get(name="sacCer3")
    assert genome.contigs.count() == 16
    assert genome.contigs.get(name="XII").length == 1078177
    assert genome.genes.count() > 6000
    gal1 = genome.genes.get(name="GAL1")
    # GFF: II 279021..280607 (+), 1-based inclusive -> 0-based half-open [279020, 280607)
    assert (gal1.gene_id, gal1.chrom, gal1.start, gal1.end, gal1.strand) == (
        "YBR020W",
        "II",
        279020,
        280607,
        "+",
    )
    from engine.io.fasta import Genome as Fasta
    from engine.io.intervals import Interval

    fasta = Fasta(genome.fasta_file)  # the coordinates land on the start and stop codons
    assert fasta.fetch(Interval("II", gal1.start, gal1.start + 3)) == "ATG"
    assert fasta.fetch(Interval("II", gal1.end - 3, gal1.end)) == "TAA"
    assert "chrII" in genome.contigs.get(name="II").aliases


def test_loading_twice_replaces_instead_of_duplicating(genome):
    from genomeweb.catalog.loading import load_genome

    again = load_genome(
        "mini", Path(genome.fasta_file), Path(settings.BASE_DIR) / "tests/data/mini.gff3"
    )
    assert again.pk == genome.pk
    assert Gene.objects.filter(genome=genome).count() == 4


def test_search_ranks_exact_then_prefix_then_substring(genome):
    names = [g.name for g in search_genes(genome, "YBL11")]
    assert names == ["YBL112C", "YBL113C"]
    assert [g.name for g in search_genes(genome, "pau8")] == ["PAU8"]
    assert list(search_genes(genome, "  ")) == []


def test_the_gene_search_fragment(as_user, bob, genome):
    url = reverse("gw-genome", kwargs={"name": genome.name})
    response = as_user(bob).get(url, {"q": "PAU"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "PAU8" in body and "YAL068C" in body and "I:1,807-2,169" in body


def test_load_genome_reports_a_missing_file(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not found"):
        call_command("load_genome", "x", fasta=YEAST / "missing.fa")
