"""Explaining a prediction from the browser: the form, its cost, the job, the igv.js page."""

import json

import pytest
from django.urls import reverse

from genomeweb.jobs.models import Job, JobKind, JobStatus
from worker import tasks

pytestmark = pytest.mark.usefixtures("no_broker")


def form(predictor, **overrides) -> dict:
    return {
        "method": "ism",
        "model": predictor.pk,
        "gene": "PAU8",
        "region": "",
        "width": "48",
        "objective": "gene",
        "objective_gene": "",
        "tracks": "",
        "objective_region": "",
        "log": "log",
        "reverse_complement": "on",
    } | overrides


def url(workspace) -> str:
    return reverse("gw-interpret-new", kwargs={"code": workspace.code})


def test_the_form_shows_the_cost_before_launch(as_user, eddie, workspace, tiny_model):
    response = as_user(eddie).get(url(workspace), form(tiny_model), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<strong>290</strong> forward passes" in body  # (3 × 48 + 1) × 2 for the RC
    assert "<html" not in body


def test_an_ism_by_gene_is_centred_on_its_tss_and_submitted_once(
    as_user, eddie, workspace, tiny_model
):
    client = as_user(eddie)
    first = client.post(url(workspace), form(tiny_model))
    second = client.post(url(workspace), form(tiny_model))
    assert first.status_code == 302 and first["Location"] == second["Location"]
    job = Job.objects.get(kind=JobKind.ISM)
    # PAU8 is on the − strand, I:1807-2169 (1-based): its TSS is 0-based 2168
    assert job.params == {
        "model": "tiny",
        "region": ["I", 2168 - 24, 2168 + 24],
        "objective": {"gene": "YAL068C"},
        "log": True,
        "reverse_complement": True,
    }


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"gene": "NOPE1"}, "No gene &#x27;NOPE1&#x27; in mini."),
        ({"gene": "", "region": "chrI:1-2500"}, "ISM takes at most 2,000 bp"),
        ({"gene": "", "region": "chrXX:1-10"}, "Contig &#x27;chrXX&#x27; is not in mini."),
        ({"gene": "", "region": "I:10-5"}, "empty or negative span"),
        ({"objective": "tracks", "tracks": "nope"}, "Unknown tracks: nope"),
        ({"gene": "", "region": ""}, "Give a gene or a region."),
    ],
)
def test_bad_input_is_explained(as_user, eddie, workspace, tiny_model, overrides, message):
    response = as_user(eddie).post(url(workspace), form(tiny_model, **overrides))
    assert response.status_code == 400 and message in response.content.decode()
    assert not Job.objects.filter(kind=JobKind.ISM).exists()


def run_submitted(kind) -> Job:
    job = Job.objects.get(kind=kind)
    tasks.run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def igv_config(page: str) -> dict:
    script = page.split('<script id="igv-config" type="application/json">')[1]
    return json.loads(script.split("</script>")[0])


def test_the_ism_page_draws_a_heatmap_and_letters(as_user, eddie, victor, workspace, tiny_model):
    as_user(eddie).post(
        url(workspace), form(tiny_model, region="I:2,001-2,040", gene="", objective_gene="pau8")
    )
    job = run_submitted(JobKind.ISM)
    page = as_user(victor).get(reverse("gw-interpretation", kwargs={"code": job.code}))
    body = page.content.decode()
    config = igv_config(body)
    assert config["loadDefaultGenomes"] is False and config["search"] is False
    seg = next(t for t in config["tracks"] if t["type"] == "seg")
    assert len(seg["features"]) == 4 * 40
    assert {f["sample"] for f in seg["features"]} == {"A", "C", "G", "T"}
    letters = next(t for t in config["tracks"] if t.get("graphType") == "dynseq")
    assert len(letters["features"]) == 40 and letters["features"][0]["start"] == 2000
    assert config["roi"][0]["features"] == [{"chr": "I", "start": 2000, "end": 2040}]
    assert "Substitutions that lower the objective most" in body
    assert body.count('<td class="seq">') == 10
    png = job.artifacts.get(name="ism.png")
    assert reverse("gw-artifact-named", args=[png.code, "ism.png"]) in body  # the figure
    motifs = next(t for t in config["tracks"] if t["name"].startswith("Motifs (JASPAR)"))
    assert motifs["features"] == [
        {
            "chr": "I",
            "start": m["start"],
            "end": m["end"],
            "name": m["label"],
            "strand": m["strand"],
        }
        for m in job.summary["motifs"]
    ]
    assert "Motifs in the important stretches" in body


def test_a_saliency_job_offers_a_focused_ism(as_user, eddie, victor, workspace, tiny_model):
    as_user(eddie).post(url(workspace), form(tiny_model, method="saliency"))
    saliency = run_submitted(JobKind.SALIENCY)
    result = reverse("gw-interpretation", kwargs={"code": saliency.code})
    page = as_user(victor).get(result).content.decode()
    assert "Run ISM on this stretch" not in page  # viewers may not start jobs
    assert any(t.get("graphType") == "dynseq" for t in igv_config(page)["tracks"])
    response = as_user(eddie).post(reverse("gw-interpret-focused", kwargs={"code": saliency.code}))
    ism = Job.objects.get(kind=JobKind.ISM)
    assert response["Location"] == reverse("gw-job", kwargs={"code": ism.code})
    assert ism.params["region"] == saliency.summary["focused_ism"]
    assert ism.params["objective"] == saliency.params["objective"]


def test_the_page_polls_until_the_job_is_final(as_user, eddie, workspace, tiny_model):
    as_user(eddie).post(url(workspace), form(tiny_model))
    job = Job.objects.get(kind=JobKind.ISM)
    page = reverse("gw-interpretation", kwargs={"code": job.code})
    client = as_user(eddie)
    assert 'hx-trigger="every 2s"' in client.get(page).content.decode()
    tasks.run_job.apply(args=[job.pk])
    assert client.get(page, HTTP_HX_REQUEST="true").status_code == 286


def test_an_attention_map_links_a_clicked_row_to_arcs(
    as_user, eddie, victor, workspace, tiny_model
):
    as_user(eddie).post(url(workspace), form(tiny_model, method="attention", layer="2", head=""))
    job = Job.objects.get(kind=JobKind.ATTENTION)
    assert job.params["layer"] == 1 and job.params["head"] is None
    job = run_submitted(JobKind.ATTENTION)
    page = as_user(victor).get(reverse("gw-interpretation", kwargs={"code": job.code}))
    body = page.content.decode()
    assert body.count('<g class="row"') == 8 and "mean of 2 heads" in body
    links = as_user(victor).get(reverse("gw-attention-links", kwargs={"code": job.code, "row": 3}))
    data = links.json()
    window_start = job.summary["window"][1]
    assert (
        data["name"]
        == f"Attention from I:{window_start + 3 * 128 + 1:,}-{window_start + 4 * 128:,}"
    )
    values = [f["value"] for f in data["features"]]
    assert len(values) == 8 and values == sorted(values, reverse=True)
    assert sum(values) == pytest.approx(1, rel=1e-4)  # a row of the softmax
    assert all(f["start1"] == window_start + 3 * 128 for f in data["features"])
    missing = reverse("gw-attention-links", kwargs={"code": job.code, "row": 8})
    assert as_user(victor).get(missing).status_code == 404


def test_a_genes_saliency_opens_on_its_promoter_on_either_strand(
    as_user, eddie, victor, workspace, tiny_model
):
    """PAU8 is on the − strand (I:1,807-2,169): its promoter lies above its end coordinate.
    YAL067W-A is on the + strand (I:2,480-2,707): its promoter lies below its start."""
    as_user(eddie).post(url(workspace), form(tiny_model, method="saliency"))
    minus = run_submitted(JobKind.SALIENCY)
    as_user(eddie).post(url(workspace), form(tiny_model, method="saliency", gene="YAL067W-A"))
    plus = Job.objects.filter(kind=JobKind.SALIENCY).exclude(pk=minus.pk).get()
    tasks.run_job.apply(args=[plus.pk])
    plus.refresh_from_db()
    for job, locus in ((minus, "I:1970-2769"), (plus, "I:1880-2679")):
        page = as_user(victor).get(reverse("gw-interpretation", kwargs={"code": job.code}))
        config = igv_config(page.content.decode())
        assert config["locus"] == locus
        stretch = job.summary["focused_ism"]
        assert config["roi"][0]["features"] == [
            {"chr": stretch[0], "start": stretch[1], "end": stretch[2]}
        ]
        letters = next(t for t in config["tracks"] if t.get("graphType") == "dynseq")
        low, high = (int(n) for n in locus.split(":")[1].split("-"))
        window = job.summary["window"]
        assert letters["features"][0]["start"] <= max(low - 1, window[1])  # letters to read
        assert letters["features"][-1]["end"] >= min(high, window[2])


def test_the_focused_stretch_is_explained_in_words(as_user, eddie, workspace, tiny_model):
    as_user(eddie).post(url(workspace), form(tiny_model, method="saliency"))
    job = run_submitted(JobKind.SALIENCY)
    page = as_user(eddie).get(reverse("gw-interpretation", kwargs={"code": job.code}))
    body = page.content.decode()
    assert "MODEL_NOTES" not in body and "recipe" not in body
    chrom, start, end = job.summary["focused_ism"]
    assert f"<strong>{chrom}:{start + 1:,}-{end:,}</strong>, " in body
    assert "PAU8&#x27;s start" in body and f"all {3 * (end - start)} single-base" in body


@pytest.mark.parametrize(
    "strand, position, text",
    [
        ("+", 950, "50 bp upstream of G1's start"),
        ("+", 1100, "100 bp downstream of G1's start, inside the gene"),
        ("+", 1600, "600 bp downstream of G1's start, past its 3′ end"),
        ("-", 1550, "51 bp upstream of G1's start"),
        ("-", 1400, "99 bp downstream of G1's start, inside the gene"),
    ],
)
def test_a_position_is_placed_from_the_genes_start_on_its_strand(strand, position, text):
    from engine.io.annotation import Exon, Gene
    from genomeweb.interpret.igv import gene_start_locus
    from genomeweb.interpret.views import relative_to_start

    gene = Gene("Y1", "G1", "I", 1000, 1500, strand, "", (Exon(1000, 1500),))
    assert relative_to_start(gene, position) == text
    expected = (1000 - 600, 1000 + 200) if strand == "+" else (1500 - 200, 1500 + 600)
    assert gene_start_locus(gene) == expected
