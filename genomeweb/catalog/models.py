"""Reference genomes, their contigs and genes: shared by every workspace."""

from pathlib import Path

from django.conf import settings
from django.db import models

from engine.io.annotation import Exon
from engine.io.annotation import Gene as AnnotatedGene
from engine.io.contigs import ContigResolver
from engine.io.intervals import Interval


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

    def motif_matrices(self) -> list:
        """JASPAR CORE matrices of the genome's taxon (all of CORE when the species is unknown),
        for labelling what ISM and saliency find."""
        from engine.interpret.motifs import load_matrices, tax_group_for_species

        return load_matrices(tax_group_for_species(self.species))


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


class GeneQuerySet(models.QuerySet):
    def named(self, genome: Genome, name: str) -> "Gene | None":
        """The gene of ``genome`` a person means by ``name``: its name, else its id, in any
        case."""
        genes = self.filter(genome=genome)
        return genes.filter(name__iexact=name).first() or genes.filter(gene_id__iexact=name).first()


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

    objects = GeneQuerySet.as_manager()

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

    def as_annotation(self) -> AnnotatedGene:
        """The framework-free gene (engine.io) the model code works with."""
        exons = tuple(Exon(start, end) for start, end in self.exons) or (
            Exon(self.start, self.end),
        )
        return AnnotatedGene(
            self.gene_id,
            self.name,
            self.chrom,
            self.start,
            self.end,
            self.strand,
            self.biotype,
            exons,
        )

    @property
    def locus(self) -> str:
        return Interval(self.chrom, self.start, self.end).readable()


class Architecture(models.TextChoices):
    YEAST = "yeast", "genomeweb yeast demo (Borzoi family)"
    BORZOI = "borzoi", "Borzoi"
    FLASHZOI = "flashzoi", "Flashzoi"
    ENFORMER = "enformer", "Enformer"


def default_shifts_value() -> list[int]:
    return [0]


class Predictor(models.Model):
    """A registered sequence-to-function model: where its weights are and what it predicts.

    ``replicates`` lists the weight folders (folds) as ``[{"path": ..., "sha256": ...}]``; the
    sha256 is of the weights file, computed at registration and checked when a worker loads it.
    """

    name = models.SlugField(max_length=50, unique=True)
    architecture = models.CharField(max_length=20, choices=Architecture.choices)
    description = models.CharField(max_length=300, blank=True)
    genome = models.ForeignKey(Genome, models.PROTECT, related_name="predictors")
    replicates = models.JSONField(default=list)
    sequence_length = models.PositiveIntegerField()
    bin_size = models.PositiveIntegerField()
    crop_bp = models.PositiveIntegerField(help_text="Input bp on each side with no output bins")
    reverse_complement_by_default = models.BooleanField(default=True)
    default_shifts = models.JSONField(
        default=default_shifts_value,
        help_text="Input shifts (bp) a job averages over unless it asks otherwise: the set that "
        "makes the model's variant scores placement-robust, from its config.json",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def output_bins(self) -> int:
        return (self.sequence_length - 2 * self.crop_bp) // self.bin_size

    def spec(self) -> dict:
        """Everything a worker needs to load this model, as plain data (the worker's compute
        code never reads the database)."""
        fields = (
            "identifier",
            "description",
            "strand",
            "strand_pair",
            "scale",
            "clip_soft",
            "sum_stat",
        )
        return {
            "name": self.name,
            "architecture": self.architecture,
            "replicates": [
                {"path": str(resolve_data_path(r["path"])), "sha256": r["sha256"]}
                for r in self.replicates
            ],
            "tracks": list(self.tracks.order_by("index").values(*fields)),
            "reverse_complement": self.reverse_complement_by_default,
            "shifts": list(self.default_shifts),
            "genome": self.genome.name,
        }


class ObservedTrack(models.Model):
    """A measured coverage track (bigWig) on a genome, shown beside predictions."""

    genome = models.ForeignKey(Genome, models.CASCADE, related_name="observed_tracks")
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    assay = models.CharField(max_length=50, blank=True)
    sample = models.CharField(max_length=200, blank=True)
    strand = models.CharField(max_length=1, default=".")

    class Meta:
        ordering = ["genome", "name"]
        constraints = [
            models.UniqueConstraint(fields=["genome", "name"], name="unique_observed_track"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def file(self) -> Path:
        return resolve_data_path(self.path)


class PredictorTrack(models.Model):
    """One output channel of a predictor (Borzoi's targets table row)."""

    predictor = models.ForeignKey(Predictor, models.CASCADE, related_name="tracks")
    index = models.PositiveIntegerField(help_text="Position in the model's output")
    identifier = models.CharField(max_length=200)
    description = models.CharField(max_length=300, blank=True)
    assay = models.CharField(max_length=50, blank=True, db_index=True)
    sample = models.CharField(max_length=200, blank=True)
    strand = models.CharField(max_length=1, default=".")
    strand_pair = models.PositiveIntegerField()
    scale = models.FloatField(default=1.0)
    clip_soft = models.FloatField(null=True, blank=True)
    sum_stat = models.CharField(max_length=20, default="sum")
    observed = models.ForeignKey(
        ObservedTrack, models.SET_NULL, null=True, blank=True, related_name="predicted_by"
    )

    class Meta:
        ordering = ["predictor", "index"]
        constraints = [
            models.UniqueConstraint(fields=["predictor", "index"], name="unique_track_index"),
            models.UniqueConstraint(fields=["predictor", "identifier"], name="unique_track_id"),
        ]

    def __str__(self) -> str:
        return f"{self.predictor}:{self.identifier}"
