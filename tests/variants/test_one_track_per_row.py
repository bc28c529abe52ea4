"""Each scorer's maximum may sit on a different track: no surface may show several scorers'
values side by side as if they were one track's (issue 14: a report row named WT_2.minus with
that track's logSED but WT_3.minus's SUM and D2)."""

import csv
import json
import re
import zipfile

import numpy as np
import pytest
from django.urls import reverse

from genomeweb.jobs.models import Job, JobKind
from genomeweb.variants.models import VariantEffect
from tests.results.test_bundle_job import ask_for_bundle, run_bundle

pytestmark = pytest.mark.usefixtures("no_broker")


def matrix(job) -> np.ndarray:
    """The job's ``(alleles, tracks, scorers)`` scores, as the worker stored them."""
    return np.load(job.artifacts.get(name="scores.npy").path)


def split_rows(job) -> list[VariantEffect]:
    """The effects whose scorers peak on different tracks (the case the issue met)."""
    rows = VariantEffect.objects.filter(job=job, max_abs__isnull=False).select_related("variant")
    return [e for e in rows if len(set(e.scorer_track.values())) > 1]


def test_every_row_keeps_one_tracks_scores_and_names_each_maximums_track(scored):
    scores, tracks, scorers = matrix(scored), scored.params["tracks"], scored.params["scorers"]
    effects = VariantEffect.objects.filter(job=scored, max_abs__isnull=False)
    for effect in effects.select_related("variant"):
        row = scores[effect.variant.index]  # (tracks, scorers)
        at = tracks.index(effect.top_track)
        assert at == int(np.abs(row[:, 0]).argmax())  # the row's track: the primary's maximum
        for s, name in enumerate(scorers):
            assert effect.top_track_scores[name] == pytest.approx(row[at, s], rel=1e-6)
            own = tracks.index(effect.scorer_track[name])
            assert own == int(np.abs(row[:, s]).argmax())
            assert effect.scorer_max[name] == pytest.approx(row[own, s], rel=1e-6)
    assert split_rows(scored), "the tiny model should give a row whose scorers peak apart"


def test_the_table_names_the_track_of_a_scorer_that_peaks_elsewhere(as_user, eddie, scored):
    effect = split_rows(scored)[0]
    other = next(s for s, t in effect.scorer_track.items() if t != effect.top_track)
    url = reverse("gw-effects", kwargs={"code": scored.code})
    page = as_user(eddie).get(url, {"scorer": other, "gene": ""}).content.decode()
    row = next(r for r in page.split("<tr>") if f">{effect.variant.ident}<" in r)
    assert f"on {effect.scorer_track[other]}" in row and f"<td>{effect.top_track}</td>" in row
    primary = as_user(eddie).get(url).content.decode()
    row = next(r for r in primary.split("<tr>") if f">{effect.variant.ident}<" in r)
    assert " on " not in row  # the primary's value is at the row's own track


def test_the_variant_page_shows_each_tracks_own_scores(as_user, eddie, scored):
    effect = split_rows(scored)[0]
    url = reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk})
    page = as_user(eddie).get(url).content.decode()
    assert f"on {effect.top_track}" in page  # "Strongest effect: … on <its track>"
    table = page.split("Scores by track")[1].split("</table>")[0]
    row = next(r for r in table.split("<tr>") if f"<td>{effect.top_track}</td>" in r)
    for value in effect.top_track_scores.values():
        assert f"{value:.4f}" in row


def test_the_tsv_rows_are_per_track_and_agree_with_the_table(scored):
    effect = split_rows(scored)[0]
    path = scored.artifacts.get(name="scores.tsv").path
    with open(path, newline="") as handle:
        rows = [
            r for r in csv.DictReader(handle, delimiter="\t") if r["id"] == effect.variant.ident
        ]
    by_track = {r["track"]: r for r in rows}
    for name, value in effect.top_track_scores.items():
        assert float(by_track[effect.top_track][name]) == pytest.approx(value, rel=1e-4)
    for name, track in effect.scorer_track.items():
        assert float(by_track[track][name]) == pytest.approx(effect.scorer_max[name], rel=1e-4)


def test_the_offline_reports_row_holds_only_its_tracks_scores(as_user, eddie, scored, tmp_path):
    effects = VariantEffect.objects.filter(job=scored, max_abs__isnull=False)
    top = list(effects.order_by("-max_abs", "variant_id").select_related("variant"))
    ask_for_bundle(as_user(eddie), scored, report_top=len(top))
    with zipfile.ZipFile(run_bundle(scored).artifacts.get().path) as archive:
        report = archive.read("report.html").decode()
    table = json.loads(re.search(r"const tableJson = (.*)\n", report)[1])
    header = table["headers"]
    rows = {row[header.index("ID")]: row for row in table["rows"]}
    split = {e.pk for e in split_rows(scored)}
    assert split & {e.pk for e in top}
    for effect in top:
        row = rows[effect.variant.ident]
        assert row[header.index("track")] == effect.top_track
        for name, value in effect.top_track_scores.items():
            assert row[header.index(name)] == f"{value:.4g}"
    assert Job.objects.filter(kind=JobKind.BUNDLE).count() == 1


def test_the_tables_rows_download_as_bed_in_its_order(
    as_user, eddie, scored, django_assert_max_num_queries
):
    url = reverse("gw-effects-bed", kwargs={"code": scored.code})
    client = as_user(eddie)
    with django_assert_max_num_queries(8):  # one query for the rows, not one per row
        response = client.get(url, {"kind": "snv", "sort": "position", "dir": "asc"})
    assert response["Content-Disposition"].endswith('.bed"')
    lines = [
        line.split("\t")
        for line in response.content.decode().splitlines()
        if not line.startswith(("track", "#"))
    ]
    snvs = VariantEffect.objects.filter(
        job=scored, variant__ref__regex=r"^.$", variant__alt__regex=r"^.$"
    )
    expected = snvs.select_related("variant").order_by("variant_id")
    assert [fields[3] for fields in lines] == [e.variant.ident for e in expected]
    first, effect = lines[0], expected[0]
    assert first[:3] == [
        effect.variant.chrom,
        str(effect.variant.start),
        str(effect.variant.start + 1),
    ]
    assert (
        float(first[6]) == pytest.approx(effect.primary, rel=1e-5) and first[8] == effect.top_track
    )
