"""The server-wide store of scored alleles that jobs reuse (``engine.variants.reuse``).

It holds no workspace data beyond the key: an entry is a sha256 of the settings and the
allele, the tracks and scorers it holds, and its numbers. Any member's job may reuse it without
an access question, and nothing in it says which workspace, set or job scored it. Alleles the
engine could not score (too long for the window) are never stored: they are recomputed, which
costs no forward pass.
"""

from collections.abc import Iterable, Iterator

from django.db import models

#: alleles per query, read or written
BATCH = 2000


class ScoreCacheLayout(models.Model):
    """One set of scoring settings (``settings_key``) with one list of tracks and scorers."""

    settings_key = models.CharField(max_length=64)
    tracks = models.JSONField()  # track identifiers, in the stored order
    scorers = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["settings_key", "tracks", "scorers"], name="score_cache_layout_once"
            )
        ]
        indexes = [models.Index(fields=["settings_key"], name="score_cache_layout_key")]


class ScoreCacheEntry(models.Model):
    """One allele's scores under a layout (``engine.variants.reuse.StoredAllele``)."""

    layout = models.ForeignKey(ScoreCacheLayout, models.CASCADE, related_name="entries")
    allele_key = models.CharField(max_length=64)  # engine.variants.reuse.allele_key
    payload = models.BinaryField()
    genes = models.JSONField(default=list)  # [gene id, track position] per gene row

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["allele_key", "layout"], name="score_cache_once")
        ]


def layout_for(settings_key: str, tracks: list[str], scorers: list[str]) -> ScoreCacheLayout:
    layout, _ = ScoreCacheLayout.objects.get_or_create(
        settings_key=settings_key, tracks=tracks, scorers=scorers
    )
    return layout


def stored_entries(
    settings_key: str, allele_keys: list[str]
) -> Iterator[tuple[ScoreCacheLayout, str, bytes, list]]:
    """Every entry of ``allele_keys`` under ``settings_key`` (any tracks and scorers), as
    (layout, allele key, payload, genes), read ``BATCH`` keys at a time."""
    layouts = {
        layout.pk: layout for layout in ScoreCacheLayout.objects.filter(settings_key=settings_key)
    }
    if not layouts:
        return
    for first in range(0, len(allele_keys), BATCH):
        rows = ScoreCacheEntry.objects.filter(
            layout__in=list(layouts), allele_key__in=allele_keys[first : first + BATCH]
        ).values_list("layout_id", "allele_key", "payload", "genes")
        for layout_id, key, payload, genes in rows:
            yield layouts[layout_id], key, bytes(payload), genes


def store_entries(layout: ScoreCacheLayout, entries: Iterable[tuple[str, bytes, list]]) -> None:
    """Store (allele key, payload, genes); an allele already stored under ``layout`` (by a job
    that ran at the same time) keeps its entry: both hold the same settings' scores."""
    ScoreCacheEntry.objects.bulk_create(
        (
            ScoreCacheEntry(layout=layout, allele_key=key, payload=payload, genes=genes)
            for key, payload, genes in entries
        ),
        batch_size=BATCH,
        ignore_conflicts=True,
    )
