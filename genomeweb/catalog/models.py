"""Reference genomes, their contigs and genes: shared by every workspace."""

from pathlib import Path

from django.conf import settings
from django.db import models

from genomeweb.genomics.contigs import ContigResolver


def resolve_data_path(stored: str) -> Path:
    """Paths under the project are stored relative to it, so a checkout can move."""
    path = Path(stored)
    return path if path.is_absolute() else settings.BASE_DIR / path


class Genome(models.Model):
    name = models.SlugField(max_length=50, unique=True, help_text="Short name, e.g. sacCer3")
    species = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=300, blank=True)
    fasta_path = models.CharField(max_length=500)
    fasta_sha256 = models.CharField(max_length=64)
    annotation_path = models.CharField(max_length=500, blank=True)
    annotation_sha256 = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def fasta_file(self) -> Path:
        return resolve_data_path(self.fasta_path)

    def contig_resolver(self) -> ContigResolver:
        contigs = list(self.contigs.all())
        aliases = {alias: c.name for c in contigs for alias in c.aliases}
        return ContigResolver([c.name for c in contigs], aliases)


class Contig(models.Model):
    genome = models.ForeignKey(Genome, models.CASCADE, related_name="contigs")
    name = models.CharField(max_length=100)
    length = models.PositiveBigIntegerField()
    aliases = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["genome", "order"]
        constraints = [
            models.UniqueConstraint(fields=["genome", "name"], name="unique_contig_name"),
        ]

    def __str__(self) -> str:
        return f"{self.genome}:{self.name}"


class Gene(models.Model):
    """A gene locus; ``start``/``end`` are 0-based half-open like every coordinate inside."""

    genome = models.ForeignKey(Genome, models.CASCADE, related_name="genes")
    gene_id = models.CharField(max_length=100)
    name = models.CharField(max_length=100, db_index=True)
    chrom = models.CharField(max_length=100)
    start = models.PositiveBigIntegerField()
    end = models.PositiveBigIntegerField()
    strand = models.CharField(max_length=1)
    biotype = models.CharField(max_length=50, blank=True)
    exons = models.JSONField(default=list, help_text="[[start, end], ...], 0-based half-open")

    class Meta:
        ordering = ["genome", "chrom", "start"]
        constraints = [
            models.UniqueConstraint(fields=["genome", "gene_id"], name="unique_gene_id"),
        ]
        indexes = [models.Index(fields=["genome", "chrom", "start"])]

    def __str__(self) -> str:
        return self.name or self.gene_id

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def locus(self) -> str:
        return f"{self.chrom}:{self.start + 1:,}-{self.end:,}"
