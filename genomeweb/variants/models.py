"""Uploaded VCFs (variant sets) and the variants accepted from them."""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Length, Upper
from django.db.models.lookups import Exact

from genomeweb.catalog.models import Genome
from genomeweb.jobs.models import Job
from genomeweb.workspaces.models import Workspace

# One base replaced by one base.
IS_SNV = Q(Exact(Length("ref"), 1)) & Q(Exact(Length("alt"), 1))
# How many of each list the report page and the row keep; the full lists are in files.
REPORT_ISSUE_ROWS = 200


class VariantSet(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="variant_sets")
    genome = models.ForeignKey(Genome, models.PROTECT, related_name="variant_sets")
    name = models.CharField(max_length=200)
    original_filename = models.CharField(max_length=255, help_text="As sent; display only")
    stored_name = models.CharField(max_length=100, help_text="Generated; under GW_UPLOAD_DIR")
    size = models.PositiveBigIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True)
    created = models.DateTimeField(auto_now_add=True)
    validation_job = models.OneToOneField(
        Job, models.PROTECT, related_name="variant_set", null=True, blank=True
    )
    records_read = models.PositiveBigIntegerField(default=0)
    accepted = models.PositiveBigIntegerField(default=0)
    skipped = models.PositiveBigIntegerField(default=0)
    rejected = models.PositiveBigIntegerField(default=0)
    duplicates = models.PositiveBigIntegerField(default=0)
    realigned = models.PositiveBigIntegerField(
        default=0, help_text="accepted alleles rewritten by left-alignment or trimming"
    )
    reasons = models.JSONField(default=dict, blank=True, help_text="reason -> count")
    first_issues = models.JSONField(default=list, blank=True)
    contigs_renamed = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True, help_text="Sentences about the file")
    annotation_version = models.PositiveIntegerField(
        default=0, help_text="Bumped by every mark or note change; keys caches of marked rows"
    )

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.name

    @property
    def upload_path(self) -> Path:
        return settings.UPLOAD_DIR / self.stored_name


class Variant(models.Model):
    """One alternative allele; multi-allelic records become several rows. 0-based ``start``.

    A set's rows are inserted in ``index`` order (one bulk insert, ids ascending), so within a
    set ``id`` sorts as ``index`` does: the results table sorts by position on its own
    ``variant_id`` column without a join.
    """

    # Filled per row by the default when the worker bulk-inserts a set (migration 0003 filled
    # the rows that existed before): a stable address for the permalink page.
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    variant_set = models.ForeignKey(VariantSet, models.CASCADE, related_name="variants")
    index = models.PositiveIntegerField(help_text="Position in the sorted set")
    chrom = models.CharField(max_length=100)
    start = models.PositiveBigIntegerField()
    ref = models.TextField()
    alt = models.TextField()
    ident = models.CharField(max_length=200, blank=True)
    line = models.PositiveBigIntegerField(help_text="Line in the uploaded file")

    class Meta:
        ordering = ["variant_set", "index"]
        constraints = [
            models.UniqueConstraint(fields=["variant_set", "index"], name="unique_variant_index"),
        ]
        # The searches (genomeweb.variants.lookup): by place, and by ID in any case, alone or
        # in a VCF list of IDs, which only the few IDs holding a ";" can be (has_ident).
        indexes = [
            models.Index(fields=["chrom", "start"], name="variant_at"),
            models.Index(Upper("ident"), name="variant_by_ident"),
            models.Index(Upper("ident"), condition=Q(ident__contains=";"), name="variant_id_lists"),
            # The results table's SNV and indel filters: most sets are mostly SNVs, and this
            # lists the few other alleles of a set.
            models.Index(fields=["variant_set"], condition=~IS_SNV, name="variant_not_snv"),
        ]

    def __str__(self) -> str:
        return f"{self.chrom}:{self.pos} {self.ref}>{self.alt}"

    @property
    def pos(self) -> int:
        """1-based position, for display and VCF output only."""
        return self.start + 1

    def set_mark(self, mark: str, *, user, on: bool) -> bool:
        """Set or clear one of the workspace's marks; True if that changed anything.

        Setting a set mark (a double click, a retried POST) leaves the one row there is.
        """
        with transaction.atomic():
            if on:
                _, changed = VariantMark.objects.get_or_create(
                    variant=self, mark=mark, defaults={"marked_by": user}
                )
            else:
                changed = VariantMark.objects.filter(variant=self, mark=mark).delete()[0] > 0
            if changed:
                self._annotations_changed()
        return changed

    def add_note(self, text: str, *, author) -> "VariantNote":
        with transaction.atomic():
            note = VariantNote.objects.create(variant=self, text=text, author=author)
            self._annotations_changed()
        return note

    def remove_note(self, note: "VariantNote") -> None:
        with transaction.atomic():
            note.delete()
            self._annotations_changed()

    def _annotations_changed(self) -> None:
        # Cached histograms of rows filtered by mark include this number in their keys.
        VariantSet.objects.filter(pk=self.variant_set_id).update(
            annotation_version=F("annotation_version") + 1
        )


class Mark(models.TextChoices):
    INTERESTING = "interesting", "Interesting"
    REVIEWED = "reviewed", "Reviewed"
    LIKELY_BENIGN = "likely_benign", "Likely benign"
    FOLLOW_UP = "follow_up", "Follow up"


class VariantMark(models.Model):
    """One mark on one variant, shared by everyone in the variant's workspace."""

    # No index of its own: the (variant, mark) unique index serves every lookup by variant.
    variant = models.ForeignKey(Variant, models.CASCADE, related_name="marks", db_index=False)
    mark = models.CharField(max_length=20, choices=Mark.choices)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mark"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "mark"], name="one_mark_per_variant"),
        ]

    def __str__(self) -> str:
        return f"{self.variant}: {self.get_mark_display()}"


NOTE_MAX_LENGTH = 1_000


class VariantNote(models.Model):
    """A short note on a variant that everyone in its workspace sees."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    variant = models.ForeignKey(Variant, models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True)
    text = models.CharField(max_length=NOTE_MAX_LENGTH)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return f"{self.variant}: {self.text[:40]}"

    def may_be_deleted_by(self, membership) -> bool:
        """Its author (while they may still write) or an owner of the workspace."""
        if membership.can_manage:
            return True
        return membership.can_write and self.author_id == membership.user_id


class VariantEffect(models.Model):
    """One scored allele of a scoring job: the summary a user sorts and filters by. The full
    allele × track × scorer matrix is in the job's scores.npz artifact."""

    # the (job, variant) unique constraint's index finds a job's rows
    job = models.ForeignKey(Job, models.CASCADE, related_name="variant_effects", db_index=False)
    variant = models.ForeignKey(Variant, models.CASCADE, related_name="effects")
    max_abs = models.FloatField(null=True, help_text="max |primary scorer| over the tracks")
    primary = models.FloatField(null=True, help_text="signed primary score at that track")
    primary_spread = models.FloatField(
        null=True, help_text="standard deviation of primary over the replicates (null: one)"
    )
    top_track = models.CharField(max_length=200, blank=True, help_text="the row's track")
    top_track_scores = models.JSONField(
        default=dict, help_text="scorer -> signed value at the row's track (top_track)"
    )
    scorer_max = models.JSONField(
        default=dict, help_text="scorer -> signed value at its own track of max |.|"
    )
    scorer_track = models.JSONField(
        default=dict, help_text="scorer -> the track of its scorer_max (may differ per scorer)"
    )
    top_gene = models.CharField(max_length=100, blank=True)
    top_gene_name = models.CharField(max_length=100, blank=True)
    top_gene_log_sed = models.FloatField(null=True)
    top_gene_log_sed_spread = models.FloatField(null=True)
    # Against the model's ScoreBackground (null and empty: no background when scored)
    primary_pct = models.FloatField(
        null=True, help_text="percentile of |primary| among random SNVs (same stratum, track)"
    )
    beyond_noise = models.BooleanField(
        null=True, help_text="|primary| above the placement noise of its track"
    )
    top_track_pct = models.JSONField(default=dict, help_text="scorer -> percentile at top_track")
    scorer_pct = models.JSONField(
        default=dict, help_text="scorer -> percentile of scorer_max, at its scorer_track"
    )

    class Meta:
        # The results table pages by variant id in each of its orders (genomeweb.variants.
        # table.SortedRows), ties by variant id, so a far page of a 250k job is an index-only
        # scan: by position, the (job, variant) unique index either way; by gene or track,
        # (job, column, variant), read backwards for Z to A with the ties re-sorted in their
        # small groups (an incremental sort: 50 ms for page 2,000; a descending index of each
        # added 4.5 s to inserting 250k rows). Unscored and uncalibrated rows (null) sort
        # last both ways, which needs an index per direction with NULLS LAST: PostgreSQL's
        # score and percentile indexes are in migration 0008, as SQLite cannot express them.
        # SQLite sorts NULLs last when descending, so its strongest-first sorts use these two.
        indexes = [
            models.Index(fields=["job", "-primary_pct"], name="effect_by_percentile"),
            models.Index(fields=["job", "-max_abs"], name="effect_by_score"),
            models.Index(fields=["job", "top_gene_name", "variant"], name="effect_gene_asc"),
            models.Index(fields=["job", "top_track", "variant"], name="effect_track_asc"),
            # The histogram: its bounds are two index probes, its bars an index-only scan,
            # and a bar's rows (a range of primary) an index range.
            models.Index(fields=["job", "primary"], name="effect_by_primary"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["job", "variant"], name="one_effect_per_variant"),
        ]

    def __str__(self) -> str:
        return f"{self.variant} in {self.job}"


class GeneEffect(models.Model):
    """Gene-level SED / logSED of one allele on one strand-matched track."""

    # No index of its own: the name and ID indexes below lead with the job (a job's deletion
    # uses them), and a variant's rows are found by the variant's. Every index costs each of
    # a genome-wide job's ~21 rows per allele an insert (bench/bench_260k.py).
    job = models.ForeignKey(Job, models.CASCADE, related_name="gene_effects", db_index=False)
    variant = models.ForeignKey(Variant, models.CASCADE, related_name="gene_effects")
    gene_id = models.CharField(max_length=100)
    gene_name = models.CharField(max_length=100, blank=True)
    track = models.CharField(max_length=200)
    sed = models.FloatField()
    log_sed = models.FloatField()
    log_sed_spread = models.FloatField(null=True, help_text="over the replicates (null: one)")

    class Meta:
        indexes = [
            # the results table's gene filter: case-insensitive name or id within a job
            models.Index(F("job"), Upper("gene_name"), name="gene_effect_by_name"),
            models.Index(F("job"), Upper("gene_id"), name="gene_effect_by_gene_id"),
        ]

    def __str__(self) -> str:
        return f"{self.gene_name or self.gene_id} {self.track}: {self.log_sed:.3g}"


class ScoreBackground(models.Model):
    """Random SNVs of a model's genome scored once by the model: the reference that turns its
    scores into percentiles and beyond-noise flags (``engine.variants.background``). The
    newest of a model is the one jobs use; the file's sha256 goes into their provenance."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    predictor = models.ForeignKey(
        "catalog.Predictor", models.CASCADE, related_name="score_backgrounds"
    )
    path = models.CharField(max_length=500, help_text="the .npz (Background.save)")
    sha256 = models.CharField(max_length=64)
    snvs = models.PositiveIntegerField()
    description = models.CharField(max_length=500)
    about = models.JSONField(default=dict, help_text="how it was made (seed, settings, hashes)")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        get_latest_by = ["created", "pk"]

    def __str__(self) -> str:
        return f"{self.predictor}: {self.description}"
