"""Sequence designs: a reference window plus a list of edits, saved as numbered versions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from engine.designs.edits import Edit, Segment, apply_edits, diff, validate_edits
from engine.io import fasta
from engine.io.intervals import Interval
from genomeweb.catalog.models import Genome, Predictor
from genomeweb.workspaces.models import Workspace


class Design(models.Model):
    """A window of the reference genome, sized to a model's input, and the edits made to it.

    ``start``/``end`` are 0-based half-open genome coordinates and may reach past the contig
    ends (those bases read as N). ``edits`` holds the current edit list (``Edit.to_dict()``,
    window coordinates, sorted); ``version`` counts saves and guards against lost updates: a
    save names the version it started from (``save_edits``).
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="designs")
    name = models.CharField(max_length=200)
    genome = models.ForeignKey(Genome, models.PROTECT, related_name="designs")
    predictor = models.ForeignKey(
        Predictor,
        models.PROTECT,
        related_name="designs",
        help_text="Its input length sizes the window",
    )
    chrom = models.CharField(max_length=100)
    start = models.BigIntegerField(
        help_text="0-based; negative when the window starts off the contig"
    )
    end = models.BigIntegerField(help_text="0-based, exclusive")
    centred_on = models.CharField(max_length=200, blank=True, help_text="e.g. 'HIS3 TSS'")
    edits = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def start_new(
        cls, *, workspace: Workspace, user, predictor: Predictor, window: Interval, **fields
    ) -> Design:
        """A design with no edits yet, and its version 1."""
        with transaction.atomic():
            design = cls.objects.create(
                workspace=workspace,
                genome=predictor.genome,
                predictor=predictor,
                chrom=window.chrom,
                start=window.start,
                end=window.end,
                created_by=user,
                updated_by=user,
                **fields,
            )
            design.versions.create(number=1, edits=[], created_by=user, message="Created")
        return design

    @property
    def window(self) -> Interval:
        return Interval(self.chrom, self.start, self.end)

    @property
    def locus(self) -> str:
        """The window as people write it: ``II:1,001-2,000`` (1-based, inclusive)."""
        return self.window.readable()

    def edit_list(self) -> list[Edit]:
        return [Edit.from_dict(data) for data in self.edits]

    def reference_sequence(self) -> str:
        """The window's reference bases (uppercase, N off the contig), read once per object."""
        if not hasattr(self, "_reference"):
            genome = fasta.Genome(self.genome.fasta_file)
            try:
                self._reference = genome.fetch(self.window)
            finally:
                genome.close()
        return self._reference

    def edited_sequence(self) -> str:
        return apply_edits(self.reference_sequence(), self.edit_list())

    def segments(self) -> list[Segment]:
        """The edited sequence aligned to the reference (see ``edits.diff``)."""
        return diff(self.reference_sequence(), self.edit_list())

    def save_edits(
        self, edits: list[Edit], *, expected_version: int, user, message: str = ""
    ) -> bool:
        """Store ``edits`` as the next version, unless someone saved since ``expected_version``.

        Returns:
            True when saved; False, with nothing changed, when the design is no longer at
            ``expected_version`` (another member saved first).

        Raises:
            ValueError: the edits do not fit the window (checked before anything is written).
        """
        data = [edit.to_dict() for edit in validate_edits(edits, self.window)]
        now = timezone.now()
        with transaction.atomic():
            # One conditional UPDATE: of two saves from the same version the second matches no
            # row (PostgreSQL re-reads the row after the first commits), so it cannot overwrite.
            saved = Design.objects.filter(pk=self.pk, version=expected_version).update(
                edits=data, version=expected_version + 1, updated_by=user, updated=now
            )
            if not saved:
                return False
            self.versions.create(
                number=expected_version + 1, edits=data, created_by=user, message=message
            )
        self.edits, self.version, self.updated_by, self.updated = (
            data,
            expected_version + 1,
            user,
            now,
        )
        return True

    def changes_since(self, number: int) -> Changes:
        """What was saved after version ``number``: the latest version and the edit difference."""
        base = self.versions.filter(number=number).first()
        before = [Edit.from_dict(data) for data in base.edits] if base else []
        after = self.edit_list()
        latest = self.versions.select_related("created_by").order_by("-number").first()
        return Changes(
            latest=latest,
            since=number,
            added=[edit for edit in after if edit not in before],
            removed=[edit for edit in before if edit not in after],
        )


@dataclass
class Changes:
    latest: DesignVersion | None
    since: int
    added: list[Edit] = field(default_factory=list)
    removed: list[Edit] = field(default_factory=list)


class DesignVersion(models.Model):
    """A saved state of a design's edit list; version 1 is the empty list it started with."""

    design = models.ForeignKey(Design, models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    edits = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["design", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["design", "number"], name="unique_design_version"),
        ]

    def __str__(self) -> str:
        return f"{self.design} v{self.number}"
