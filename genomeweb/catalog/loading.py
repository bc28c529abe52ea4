"""Register a genome (FASTA, contigs, aliases) and its genes in the catalog."""

from pathlib import Path

from django.conf import settings
from django.db import transaction

from engine.io.annotation import read_genes
from engine.io.contigs import spellings
from engine.io.fasta import Genome as FastaGenome
from engine.io.files import sha256_file
from genomeweb.catalog.models import Contig, Gene, Genome

GENE_BATCH = 5000


def stored_path(path: Path) -> str:
    """Relative to the project when inside it, so the checkout can move."""
    path = path.resolve()
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


@transaction.atomic
def load_genome(
    name: str,
    fasta: Path,
    annotation: Path | None = None,
    *,
    species: str = "",
    description: str = "",
) -> Genome:
    """Create or replace the genome ``name``: contigs from the FASTA index, genes if given.

    Raises:
        ValueError: the FASTA cannot be read or the annotation names contigs the FASTA lacks.
    """
    reference = FastaGenome(fasta)
    lengths = reference.contig_lengths
    reference.close()
    genome, _ = Genome.objects.update_or_create(
        name=name,
        defaults={
            "species": species,
            "description": description,
            "fasta_path": stored_path(fasta),
            "fasta_sha256": sha256_file(fasta),
            "annotation_path": stored_path(annotation) if annotation else "",
            "annotation_sha256": sha256_file(annotation) if annotation else "",
        },
    )
    genome.contigs.all().delete()
    Contig.objects.bulk_create(
        Contig(
            genome=genome,
            name=contig,
            length=length,
            order=order,
            aliases=sorted(spellings(contig) - {contig}),
        )
        for order, (contig, length) in enumerate(lengths.items())
    )
    genome.genes.all().delete()
    if annotation:
        _load_genes(genome, annotation, set(lengths))
    return genome


def _load_genes(genome: Genome, annotation: Path, contigs: set[str]) -> None:
    resolver = genome.contig_resolver()
    rows = []
    for gene in read_genes(annotation):
        chrom = resolver.resolve(gene.chrom)
        if chrom is None:
            raise ValueError(
                f"gene {gene.gene_id} is on contig '{gene.chrom}', which the FASTA does not have"
            )
        rows.append(
            Gene(
                genome=genome,
                gene_id=gene.gene_id,
                name=gene.name or gene.gene_id,
                chrom=chrom,
                start=gene.start,
                end=gene.end,
                strand=gene.strand,
                biotype=gene.biotype,
                exons=[[exon.start, exon.end] for exon in gene.exons],
            )
        )
    Gene.objects.bulk_create(rows, batch_size=GENE_BATCH)
