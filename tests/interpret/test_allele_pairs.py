"""From a variant's page: ISM, saliency or attention of both alleles, side by side."""

import numpy as np
import pytest
from django.urls import reverse

from engine.errors import InputError
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import VariantEffect
from tests.interpret.test_interpret_views import igv_config
from worker import tasks
from worker.jobs.inputs import allele_of

pytestmark = pytest.mark.usefixtures("no_broker")


def snv_effect(job) -> VariantEffect:
    return VariantEffect.objects.select_related("variant").get(job=job, variant__ident="snv1800")


def explain_url(job, effect) -> str:
    return reverse("gw-effect-explain", kwargs={"code": job.code, "effect_id": effect.pk})


def explain(client, job, effect, **overrides):
    data = {"method": "ism", "objective": "", "width": "24", "log": "log", "layer": "1"}
    data["objective"] = f"track:{job.params['tracks'][0]}"
    return client.post(explain_url(job, effect), data | overrides)


def run_pair(kind) -> tuple[Job, Job]:
    reference = Job.objects.get(kind=kind, params__allele__side="ref")
    alternative = Job.objects.get(kind=kind, params__allele__side="alt")
    for job in (reference, alternative):
        tasks.run_job.apply(args=[job.pk])
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
    return reference, alternative


def test_the_variant_page_offers_both_alleles(as_user, eddie, victor, scored):
    effect = snv_effect(scored)
    page = reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk})
    body = as_user(eddie).get(page).content.decode()
    assert "Explain both alleles" in body and 'value="track:stripeseq_S288C_WT_1.plus"' in body
    assert "Explain both alleles" not in as_user(victor).get(page).content.decode()


def test_one_click_submits_a_reference_and_an_alternative_job_once(as_user, eddie, scored):
    effect, client = snv_effect(scored), as_user(eddie)
    first, second = explain(client, scored, effect), explain(client, scored, effect)
    assert first.status_code == 302 and first["Location"] == second["Location"]
    reference = Job.objects.get(kind=JobKind.ISM, params__allele__side="ref")
    alternative = Job.objects.get(kind=JobKind.ISM, params__allele__side="alt")
    assert first["Location"] == reverse("gw-interpret-alleles", kwargs={"code": reference.code})
    variant = effect.variant  # I:1800, 0-based 1799: 24 bp centred on it
    assert reference.params["region"] == ["I", 1799 - 12, 1799 + 12]
    assert alternative.params["pair"] == str(reference.code)
    assert {k: v for k, v in alternative.params.items() if k not in ("pair", "allele")} == {
        k: v for k, v in reference.params.items() if k != "allele"
    }
    assert alternative.params["allele"] == {"variant": variant.pk, "side": "alt"}


def test_the_two_isms_agree_at_the_variant(as_user, eddie, victor, scored):
    """Mutating the reference base to the alternative is the reverse of mutating the
    alternative back: the two matrices must mirror each other at the variant."""
    effect = snv_effect(scored)
    explain(as_user(eddie), scored, effect)
    reference, alternative = run_pair(JobKind.ISM)
    variant = effect.variant
    offset = variant.start - reference.params["region"][1]
    with np.load(reference.artifacts.get(name="ism.npz").path) as saved:
        ref_effects, ref_bases = saved["effects"], "".join(saved["reference"])
    with np.load(alternative.artifacts.get(name="ism.npz").path) as saved:
        alt_effects, alt_bases = saved["effects"], "".join(saved["reference"])
    assert ref_bases[offset] == variant.ref and alt_bases[offset] == variant.alt
    assert reference.provenance["inputs"] == {}
    assert alternative.provenance["inputs"]["allele"] == {
        "start": variant.start,
        "ref": variant.ref,
        "alt": variant.alt,
    }
    assert (
        ref_bases[:offset] + ref_bases[offset + 1 :] == alt_bases[:offset] + alt_bases[offset + 1 :]
    )
    delta = alternative.summary["reference_objective"] - reference.summary["reference_objective"]
    assert delta != 0
    assert ref_effects[offset, "ACGT".index(variant.alt)] == pytest.approx(delta, abs=1e-5)
    assert alt_effects[offset, "ACGT".index(variant.ref)] == pytest.approx(-delta, abs=1e-5)

    page = as_user(victor).get(reverse("gw-interpret-alleles", kwargs={"code": reference.code}))
    body = page.content.decode()
    assert f"alt − ref {delta:.4f}" in body
    config = igv_config(body)
    names = [t["name"] for t in config["tracks"]]
    reference_names = [n for n in names if n.startswith("Reference: ")]
    alternative_names = [n for n in names if n.startswith("Alternative: ")]
    assert names.index(reference_names[-1]) < names.index(alternative_names[0])
    assert [n.removeprefix("Reference: ") for n in reference_names] == [
        n.removeprefix("Alternative: ") for n in alternative_names
    ]
    assert "Reference: Motifs (JASPAR) in important stretches" in names
    segs = [t for t in config["tracks"] if t["type"] == "seg"]
    scales = [seg["name"].split("full colour at ±")[1] for seg in segs]
    assert scales[0] == scales[1] and scales[0].endswith(" log2 units)")  # one scale, its unit
    ref_letters, alt_letters = (t for t in config["tracks"] if t.get("graphType") == "dynseq")
    assert variant.start in {f["start"] for f in ref_letters["features"]}
    assert variant.start not in {f["start"] for f in alt_letters["features"]}
    assert config["roi"][0]["features"] == [{"chr": "I", "start": 1799, "end": 1800}]
    variant_page = reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk})
    earlier = as_user(victor).get(variant_page).content.decode()
    assert reverse("gw-interpret-alleles", kwargs={"code": reference.code}) in earlier


def test_saliency_side_by_side_reports_the_objective_change(as_user, eddie, scored):
    effect = snv_effect(scored)
    explain(as_user(eddie), scored, effect, method="saliency")
    reference, alternative = run_pair(JobKind.SALIENCY)
    assert reference.summary["window"] == alternative.summary["window"]
    page = as_user(eddie).get(reverse("gw-interpret-alleles", kwargs={"code": reference.code}))
    body = page.content.decode()
    assert "Reference: Saliency" in body and "Alternative: Saliency" in body
    assert "alt − ref" in body


def test_attention_side_by_side_shows_both_heatmaps(as_user, eddie, scored):
    effect = snv_effect(scored)
    explain(as_user(eddie), scored, effect, method="attention", layer="2")
    reference, _ = run_pair(JobKind.ATTENTION)
    page = as_user(eddie).get(reverse("gw-interpret-alleles", kwargs={"code": reference.code}))
    assert page.content.decode().count('<g class="row"') == 2 * 8


def test_an_indel_is_refused_with_a_reason(as_user, eddie, scored):
    effect = VariantEffect.objects.get(job=scored, variant__ident="del4")
    response = explain(as_user(eddie), scored, effect)
    assert response.status_code == 400
    assert "need a substitution (SNV or MNV)" in response.content.decode()
    assert not Job.objects.filter(kind=JobKind.ISM).exists()


def test_the_worker_reads_the_variant_from_the_job_workspace(scored, eddie):
    """A job naming another workspace's variant fails instead of leaking its sequence."""
    from genomeweb.workspaces.models import Workspace

    other = Workspace.objects.create(name="elsewhere")
    job = Job.objects.create(
        workspace=other,
        created_by=eddie,
        kind=JobKind.ISM,
        params={"allele": {"variant": snv_effect(scored).variant.pk, "side": "alt"}},
    )
    with pytest.raises(InputError, match="no longer exists"):
        allele_of(job)
