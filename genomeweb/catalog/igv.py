"""igv.js pieces every genome view shares: the reference from this server, genes inline."""

from django.urls import reverse

from genomeweb.catalog.models import Gene, Genome

GENE_FLANK = 20_000


def reference(genome: Genome) -> dict:
    fasta = genome.fasta_file
    config = {
        "id": genome.name,
        "name": genome.name,
        "fastaURL": reverse("gw-genome-file", args=[genome.name, fasta.name]),
        "indexURL": reverse("gw-genome-file", args=[genome.name, f"{fasta.name}.fai"]),
    }
    if fasta.name.endswith(".gz"):
        config["compressedIndexURL"] = reverse(
            "gw-genome-file", args=[genome.name, f"{fasta.name}.gzi"]
        )
    return config


def gene_track(genome: Genome, chrom: str, start: int, end: int) -> dict:
    genes = Gene.objects.filter(
        genome=genome, chrom=chrom, end__gt=start - GENE_FLANK, start__lt=end + GENE_FLANK
    )
    features = [
        {
            "chr": g.chrom,
            "start": g.start,
            "end": g.end,
            "name": g.name or g.gene_id,
            "strand": g.strand,
        }
        for g in genes
    ]
    return {
        "name": "Genes",
        "type": "annotation",
        "displayMode": "EXPANDED",
        "features": features,
        "order": 1,
    }
