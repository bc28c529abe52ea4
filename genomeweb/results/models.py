"""Files a job wrote (result arrays, bigWigs, normalised VCFs): the row records where and what."""

import uuid
from pathlib import Path

from django.db import models

from genomeweb.jobs.models import Job


class Artifact(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    job = models.ForeignKey(Job, models.CASCADE, related_name="artifacts")
    name = models.CharField(max_length=200, help_text="File name offered to the user")
    description = models.CharField(max_length=300, blank=True)
    relative_path = models.CharField(max_length=500, help_text="Under GW_RESULTS_DIR")
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["job", "name"], name="unique_artifact_name_per_job"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def path(self) -> Path:
        """A local file with this artifact's contents: the file itself on the filesystem
        storage, a copy fetched from object storage otherwise (``storage.local_copy``)."""
        from genomeweb.results.storage import local_copy

        return local_copy(self)

    @property
    def local_path(self) -> Path:
        """Where ``path`` is on this host, without fetching anything."""
        from genomeweb.results.storage import local_path

        return local_path(self)
