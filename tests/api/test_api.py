"""The JSON API end to end: upload, validate, score, page, bundle, download, cancel, designs,
interpretation. Jobs run in-process (``tasks.run_job.apply``), as in the worker tests."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import VariantEffect
from tests.scoring import calls_vcf
from tests.variants.test_one_track_per_row import split_rows
from tests.worker.test_score_background import score, tiny_background  # noqa: F401 (fixture)
from worker import tasks

pytestmark = pytest.mark.usefixtures("no_broker")
V1 = "/api/v1"


def run(code) -> Job:
    job = Job.objects.get(code=code)
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def upload(api, workspace, reference, **fields):
    vcf = SimpleUploadedFile("calls.vcf", calls_vcf(reference))
    data = {"genome": "mini", "name": "API calls", "vcf": vcf} | fields
    return api.upload(f"{V1}/workspaces/{workspace.code}/variant-sets", data)


SCORE = {"model": "tiny", "track_query": "WT", "scorers": ["logSED", "SUM", "D2"]}


def test_a_vcf_is_uploaded_validated_scored_and_paged_through(
    api_as, eddie, workspace, genome, tiny_model, monkeypatch
):
    api = api_as(eddie)
    response = upload(api, workspace, genome)
    assert response.status_code == 201, response.content
    variant_set = response.json()
    assert variant_set["status"] == "queued" and variant_set["name"] == "API calls"
    run(variant_set["validation_job"]["code"])
    variant_set = api.get(f"{V1}/variant-sets/{variant_set['code']}").json()
    assert variant_set["status"] == "succeeded" and variant_set["accepted"] == 7

    score_url = f"{V1}/variant-sets/{variant_set['code']}/score"
    first, again = api.post(score_url, SCORE), api.post(score_url, SCORE)
    assert first.status_code == again.status_code == 202
    assert first.json()["code"] == again.json()["code"]  # one job per analysis, as on the page
    job = run(first.json()["code"])
    assert job.params["tracks"] == [
        f"stripeseq_S288C_WT_{i}.{s}" for i in (1, 2, 3) for s in ("plus", "minus")
    ]
    assert job.params["reverse_complement"] is True  # the model's default

    results = api.get(f"{V1}/jobs/{job.code}/results").json()
    assert results["count"] == 7 and results["status"] == "succeeded"
    scores = [item["max_abs"] for item in results["items"]]
    assert scores == sorted(scores, reverse=True)
    top = VariantEffect.objects.filter(job=job).order_by("-max_abs").first()
    assert results["items"][0]["id"] == top.pk and results["items"][0]["pos"] == top.variant.pos
    assert set(results["items"][0]["scorer_max"]) == {"logSED", "SUM", "D2"}

    monkeypatch.setattr("genomeweb.api.routes.variants.PAGE_SIZE", 3)
    pages = [
        api.get(f"{V1}/jobs/{job.code}/results", {"page": n, "sort": "position", "dir": "asc"})
        for n in (1, 2, 3)
    ]
    rows = [item for page in pages for item in page.json()["items"]]
    assert pages[0].json()["pages"] == 3 and len(rows) == 7
    assert [(r["chrom"], r["pos"]) for r in rows] == sorted((r["chrom"], r["pos"]) for r in rows)


def test_results_are_filtered_as_in_the_table(api_as, eddie, scored):
    api = api_as(eddie)
    url = f"{V1}/jobs/{scored.code}/results"
    indels = api.get(url, {"kind": "indel"}).json()
    assert {item["ident"] for item in indels["items"]} == {"del4", "ins3"}
    assert api.get(url, {"region": "II:1-350"}).json()["count"] == 1
    assert api.get(url, {"region": "II"}).json()["count"] == 2
    assert api.get(url, {"min_abs": 1e300}).json()["count"] == 0
    bad = api.get(url, {"region": "II:300-1"})
    assert bad.status_code == 400 and "region" in bad.json()["errors"]
    assert api.get(url, {"min_abs": "nan"}).status_code == 400
    assert api.get(url, {"page": 10**12}).status_code == 400


def test_results_are_searched_as_in_the_table(api_as, eddie, scored):
    api = api_as(eddie)
    url = f"{V1}/jobs/{scored.code}/results"

    def idents(**params) -> set[str]:
        response = api.get(url, params)
        assert response.status_code == 200, response.json()
        return {item["ident"] for item in response.json()["items"]}

    snv = VariantEffect.objects.get(job=scored, variant__ident="snv1700").variant
    assert idents(q="SNV1700") == {"snv1700"}
    assert idents(q=f"chrI:{snv.pos:,} {snv.ref}>{snv.alt}") == {"snv1700"}
    assert idents(q=f"chrI:g.{snv.pos}{snv.ref}>{snv.alt}") == {"snv1700"}
    assert idents(q="chrI:1,700-1,800") == {"snv1700", "snv1750", "snv1800"}
    assert idents(region="chrII") == idents(region="II") == {"del4", "ins3"}
    assert idents(q="chrII", kind="indel") == {"del4", "ins3"}


def test_an_empty_result_says_why_and_a_bad_search_is_400(api_as, eddie, scored):
    api = api_as(eddie)
    url = f"{V1}/jobs/{scored.code}/results"
    empty = api.get(url, {"gene": "snv1700"}).json()
    assert empty["count"] == 0
    assert empty["empty_reason"] == (
        "No gene named 'snv1700' was scored in this job: 'snv1700' is a variant's ID; "
        "search for it instead."
    )
    region = api.get(url, {"q": "chrII:270,000-290,000"}).json()
    assert region["empty_reason"] == "No allele of this job lies in II:270,000-290,000."
    assert api.get(url, {"q": "snv1700"}).json()["empty_reason"] == ""
    bad = api.get(url, {"q": "chrZZ:1-10"})
    assert bad.status_code == 400
    assert bad.json()["errors"]["q"] == ["chrZZ is not a contig of mini (contigs: I, II)"]


def test_a_bundle_is_built_and_downloaded_with_the_token(api_as, client, victor, scored):
    api = api_as(victor)  # a viewer may bundle, as on the page
    url = f"{V1}/jobs/{scored.code}/bundle"
    before = api.get(url).json()
    assert before["bundle"] is None and before["estimated_bytes"] > 0
    first, again = api.post(url, {"report_top": 2}), api.post(url, {"report_top": 2})
    assert first.status_code == again.status_code == 202
    assert first.json()["bundle"]["code"] == again.json()["bundle"]["code"]
    run(first.json()["bundle"]["code"])
    download = api.get(url).json()["download"]
    assert download["name"].endswith(".zip")

    client.logout()
    response = client.get(download["url"], headers={"Authorization": f"Bearer {api.secret}"})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None and "outputs/scores.tsv" in archive.namelist()
    assert len(archive.read("report.html")) > 0


def test_the_bundle_form_limits_the_report(api_as, eddie, scored):
    response = api_as(eddie).post(f"{V1}/jobs/{scored.code}/bundle", {"report_top": 501})
    assert response.status_code == 400 and "report_top" in response.json()["errors"]


def test_a_job_that_has_not_succeeded_has_no_bundle(api_as, eddie, validated_set):
    api = api_as(eddie)
    job = api.post(f"{V1}/variant-sets/{validated_set.code}/score", SCORE).json()
    response = api.get(f"{V1}/jobs/{job['code']}/bundle")
    assert response.status_code == 409 and response.json()["status"] == "queued"


def test_a_queued_job_is_cancelled(api_as, eddie, victor, validated_set):
    job = api_as(eddie).post(f"{V1}/variant-sets/{validated_set.code}/score", SCORE).json()
    url = f"{V1}/jobs/{job['code']}/cancel"
    assert api_as(victor).post(url).status_code == 403
    response = api_as(eddie).post(url)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api_as(eddie).get(f"{V1}/jobs/{job['code']}").json()["is_final"] is True


def test_a_job_shows_its_files_and_each_downloads_with_the_token(api_as, client, victor, scored):
    api = api_as(victor)
    job = api.get(f"{V1}/jobs/{scored.code}").json()
    assert job["kind"] == "score_variants" and job["percent"] == 100
    files = {artifact["name"]: artifact for artifact in job["artifacts"]}
    tsv = files["scores.tsv"]
    client.logout()
    headers = {"Authorization": f"Bearer {api.secret}", "Range": "bytes=0-9"}
    response = client.get(tsv["url"], headers=headers)
    assert response.status_code == 206 and len(b"".join(response.streaming_content)) == 10
    bad = client.get(tsv["url"], headers={"Authorization": "Bearer gw_nope"})
    assert bad.status_code == 401 and bad.json()["detail"] == "The token is unknown or revoked."
    anonymous = client.get(tsv["url"])  # no token, no session: the page's login redirect
    assert anonymous.status_code == 302


def test_an_outsiders_token_cannot_download_a_file(api_as, client, bob, scored):
    artifact = scored.artifacts.first()
    url = f"/files/{artifact.code}/{artifact.name}"
    client.logout()
    response = client.get(url, headers={"Authorization": f"Bearer {api_as(bob).secret}"})
    assert response.status_code == 404


def test_a_set_is_scored_only_once_validated(api_as, eddie, workspace, genome, tiny_model):
    api = api_as(eddie)
    variant_set = upload(api, workspace, genome).json()
    response = api.post(f"{V1}/variant-sets/{variant_set['code']}/score", SCORE)
    assert response.status_code == 409 and response.json()["status"] == "queued"


def test_scoring_is_validated_by_the_pages_form(api_as, eddie, validated_set):
    api = api_as(eddie)
    url = f"{V1}/variant-sets/{validated_set.code}/score"
    cases = [
        ({"shifts": [100]}, "shifts", "between -64 and 64"),
        ({"replicates": 2}, "replicates", "has 1 replicate"),
        ({"track_query": "no such track"}, "track_query", "No track of this model matches"),
        ({"model": "borzoi"}, "model", "No model 'borzoi' for genome mini"),
        ({"tracks": ["stripeseq_S288C_WT_1.plus", "nope"]}, "tracks", "nope"),
        ({"scorers": ["XYZ"]}, "scorers[0]", "Input should be"),
    ]
    for change, field, message in cases:
        response = api.post(url, SCORE | change)
        assert response.status_code == 400, change
        assert message in " ".join(response.json()["errors"][field]), response.json()
    chosen = api.post(url, SCORE | {"tracks": ["stripeseq_S288C_WT_2.minus"]})
    assert chosen.status_code == 202
    assert chosen.json()["params"]["tracks"] == ["stripeseq_S288C_WT_2.minus"]


def test_an_upload_is_checked_like_the_pages(api_as, eddie, workspace, genome):
    api = api_as(eddie)
    wrong_name = upload(api, workspace, genome, vcf=SimpleUploadedFile("calls.txt", b"x"))
    assert "does not look like a VCF" in wrong_name.json()["errors"]["vcf"][0]
    unknown = upload(api, workspace, genome, genome="hg99")
    assert (
        unknown.status_code == 400 and "No genome 'hg99'" in unknown.json()["errors"]["genome"][0]
    )
    missing = api.upload(f"{V1}/workspaces/{workspace.code}/variant-sets", {"genome": "mini"})
    assert missing.status_code == 400 and "vcf" in missing.json()["errors"]


def test_a_retried_upload_with_its_submission_key_is_one_set(api_as, eddie, workspace, genome):
    api = api_as(eddie)
    key = "0b8f2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    first = upload(api, workspace, genome, submission=key).json()
    again = upload(api, workspace, genome, submission=key).json()
    assert first["code"] == again["code"]


def test_a_design_is_made_edited_with_conflicts_and_predicted(
    api_as, eddie, alice, workspace, tiny_model
):
    api = api_as(eddie)
    response = api.post(
        f"{V1}/workspaces/{workspace.code}/designs", {"model": "tiny", "gene": "PAU8"}
    )
    assert response.status_code == 201, response.content
    design = response.json()
    assert design["version"] == 1 and design["end"] - design["start"] + 1 == 1024
    edits_url = f"{V1}/designs/{design['code']}/edits"
    deletion = {"kind": "deletion", "position": 2000, "end_position": 2004, "label": "five"}
    saved = api.post(edits_url, {"version": 1, "edits": [deletion]})
    assert saved.status_code == 200 and saved.json()["version"] == 2
    assert saved.json()["edits"] == [
        {"kind": "deletion", "position": 2000, "end_position": 2004, "bases": "", "label": "five"}
    ]
    stale = api_as(alice).post(edits_url, {"version": 1, "edits": [deletion]})
    assert stale.status_code == 409 and stale.json()["version"] == 2
    overlapping = api.post(edits_url, {"version": 2, "edits": [deletion]})
    assert overlapping.status_code == 400 and "overlaps" in overlapping.json()["detail"]
    bad_bases = {"kind": "insertion", "position": 2100, "bases": "AXG"}
    response = api.post(edits_url, {"version": 2, "edits": [bad_bases]})
    assert "'X'" in response.json()["errors"]["edits[0].bases"][0]

    predicted = api.post(f"{V1}/designs/{design['code']}/predict", {"tracks": []})
    assert predicted.status_code == 202  # a small model: all its tracks by default
    job = run(predicted.json()["code"])
    assert job.kind == JobKind.DESIGN_PREDICT and job.params["version"] == 2
    assert api.post(f"{V1}/designs/{design['code']}/predict", {"tracks": ["x"]}).status_code == 400


def test_a_design_needs_a_gene_or_a_region(api_as, eddie, workspace, tiny_model):
    url = f"{V1}/workspaces/{workspace.code}/designs"
    response = api_as(eddie).post(url, {"model": "tiny"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"body": ["Give either a gene or a region."]}
    by_region = api_as(eddie).post(url, {"model": "tiny", "region": "II:1,000-1,100"})
    assert by_region.status_code == 201 and by_region.json()["chrom"] == "II"


def test_an_interpretation_job_is_started_like_the_form(api_as, eddie, workspace, tiny_model):
    api = api_as(eddie)
    url = f"{V1}/workspaces/{workspace.code}/interpretations"
    body = {"method": "ism", "model": "tiny", "region": "I:1,700-1,720", "objective_gene": "PAU8"}
    response = api.post(url, body)
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "ism" and response.json()["params"]["region"] == [
        "I",
        1699,
        1720,
    ]
    assert api.post(url, body).json()["code"] == response.json()["code"]
    unknown = api.post(url, body | {"region": "chrQ:1-10"})
    assert unknown.status_code == 400 and "Contig 'chrQ'" in unknown.json()["errors"]["region"][0]


def test_the_catalog_lists_models_and_pages_tracks(api_as, eddie, tiny_model, monkeypatch):
    api = api_as(eddie)
    (model,) = api.get(f"{V1}/models").json()
    assert model["name"] == "tiny" and model["track_count"] == 12 and model["genome"] == "mini"
    assert model["sequence_length"] == 1024 and model["bin_size"] == 32
    monkeypatch.setattr("genomeweb.api.routes.catalog.TRACK_PAGE_SIZE", 5)
    page = api.get(f"{V1}/models/tiny/tracks", {"page": 3}).json()
    assert page["count"] == 12 and page["pages"] == 3 and len(page["items"]) == 2
    assert api.get(f"{V1}/models/tiny/tracks", {"q": "WT_1 minus"}).json()["count"] == 1
    missing = api.get(f"{V1}/models/nope/tracks")
    assert missing.status_code == 404 and missing.json() == {"detail": "No model 'nope'."}
    assert api.get(f"{V1}/genomes").json()[0]["name"] == "mini"


@pytest.mark.parametrize(
    "body",
    [
        b"{bad json",
        b"[1, 2]",
        b'"text"',
        b"",
        b'{"model": NaN}',
        b'{"model": "a\\u0000b"}',
        b'{"model": "\\ud800"}',
        b'{"replicates": 1' + b"0" * 5000 + b"}",
    ],
)
def test_malformed_bodies_get_400_never_500(api_as, eddie, validated_set, body):
    response = api_as(eddie).client.post(
        f"{V1}/variant-sets/{validated_set.code}/score",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_as(eddie).secret}"},
    )
    assert response.status_code == 400 and isinstance(response.json()["detail"], str)


def test_unknown_codes_are_404_json(api_as, eddie, workspace):
    response = api_as(eddie).get(f"{V1}/jobs/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404 and response.json() == {"detail": "not found"}
    assert api_as(eddie).get(f"{V1}/jobs/not-a-uuid").status_code == 400


def test_a_misspelt_field_is_an_error(api_as, eddie, validated_set):
    body = SCORE | {"track": "WT"}
    response = api_as(eddie).post(f"{V1}/variant-sets/{validated_set.code}/score", body)
    assert response.status_code == 400 and "track" in response.json()["errors"]


def test_an_unknown_api_url_is_404_json(api_as, eddie):
    response = api_as(eddie).get(f"{V1}/no/such/thing")
    assert response.status_code == 404 and "No such API operation" in response.json()["detail"]


def test_a_percent_sign_in_a_name_is_only_text(api_as, eddie, workspace, validated_set):
    """Found by the fuzzer: a '%' in an unknown model's name broke the form's message."""
    api = api_as(eddie)
    for url, body in [
        (f"{V1}/workspaces/{workspace.code}/interpretations", {"method": "ism"}),
        (f"{V1}/workspaces/{workspace.code}/designs", {"gene": "PAU8"}),
        (f"{V1}/variant-sets/{validated_set.code}/score", {}),
    ]:
        response = api.post(url, body | {"model": "50%d"})
        assert response.status_code == 400
        assert response.json()["errors"]["model"][0].startswith("No model '50%d'")


def test_an_upload_over_the_limit_is_413(api_as, eddie, workspace, genome, settings):
    settings.MAX_UPLOAD_BYTES = 100
    vcf = SimpleUploadedFile("big.vcf", b"#" * 200_000)
    response = upload(api_as(eddie), workspace, genome, vcf=vcf)
    assert response.status_code == 413 and "upload limit" in response.json()["detail"]


def test_a_page_404_stays_a_page(as_user, eddie):
    response = as_user(eddie).get("/no/such/page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_the_api_gives_each_scorers_track_and_the_rows_own_scores(api_as, eddie, scored):
    effect = split_rows(scored)[0]
    items = api_as(eddie).get(f"{V1}/jobs/{scored.code}/results").json()["items"]
    item = next(i for i in items if i["id"] == effect.pk)
    assert item["top_track"] == effect.top_track
    assert item["top_track_scores"] == pytest.approx(effect.top_track_scores)
    assert item["scorer_track"] == effect.scorer_track
    assert len(set(item["scorer_track"].values())) > 1


@pytest.mark.usefixtures("tiny_background")
def test_the_api_gives_percentiles_and_filters_by_them(api_as, as_user, eddie, validated_set):
    job = score(as_user(eddie), validated_set)
    url = f"{V1}/jobs/{job.code}/results"
    items = api_as(eddie).get(url, {"sort": "percentile"}).json()["items"]
    stored = {e.pk: e for e in VariantEffect.objects.filter(job=job)}
    assert [i["primary_pct"] for i in items] == sorted(
        (e.primary_pct for e in stored.values()), reverse=True
    )
    for item in items:
        effect = stored[item["id"]]
        assert (item["beyond_noise"], item["scorer_pct"]) == (
            effect.beyond_noise,
            effect.scorer_pct,
        )
    cut = items[2]["primary_pct"]
    assert api_as(eddie).get(url, {"min_pct": cut}).json()["count"] == sum(
        e.primary_pct >= cut for e in stored.values()
    )
    assert api_as(eddie).get(url, {"min_pct": 101}).status_code == 400
