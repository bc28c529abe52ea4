"""A variant's permalink page: any member opens it, everyone else learns nothing."""

import pytest
from django.urls import reverse

from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import Variant, VariantEffect

pytestmark = pytest.mark.usefixtures("no_broker")


@pytest.fixture
def variant(variant_set):
    return variant_set.variants.get()  # I:100 A>G (0-based start 99)


def permalink(variant) -> str:
    return reverse("gw-variant", kwargs={"code": variant.code})


@pytest.mark.parametrize("role", ["alice", "eddie", "victor"])
def test_it_opens_for_every_member(request, as_user, variant, role):
    page = as_user(request.getfixturevalue(role)).get(permalink(variant))
    body = page.content.decode()
    assert page.status_code == 200
    assert "I:100 A &gt; G" in body and "1-based" in body  # start 99 shown 1-based
    assert reverse("gw-variantset", kwargs={"code": variant.variant_set.code}) in body
    assert f"http://testserver{permalink(variant)}" in body
    assert "No scoring job has scored this variant yet." in body


def test_it_hides_other_users_variants(as_user, bob, variant):
    assert as_user(bob).get(permalink(variant)).status_code == 404


def test_anonymous_users_are_sent_to_login(client, variant):
    response = client.get(permalink(variant))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_unknown_code_is_404(as_user, alice, variant):
    url = reverse("gw-variant", kwargs={"code": "00000000-0000-4000-8000-000000000000"})
    assert as_user(alice).get(url).status_code == 404


def test_it_lists_every_job_that_scored_the_variant(as_user, alice, variant):
    jobs = [
        Job.objects.create(
            workspace=variant.variant_set.workspace,
            created_by=alice,
            kind=JobKind.SCORE_VARIANTS,
            status=JobStatus.SUCCEEDED,
            params={"model": f"model-{i}", "scorers": ["logSED"], "tracks": []},
        )
        for i in range(2)
    ]
    effects = [VariantEffect.objects.create(job=j, variant=variant, max_abs=0.25) for j in jobs]
    body = as_user(alice).get(permalink(variant)).content.decode()
    for job, effect in zip(jobs, effects, strict=True):
        assert reverse("gw-effect", kwargs={"code": job.code, "effect_id": effect.pk}) in body
    assert "model-0" in body and "model-1" in body


def test_the_effect_page_and_the_set_page_link_the_permalink(as_user, victor, scored):
    effect = VariantEffect.objects.filter(job=scored).first()
    client = as_user(victor)
    url = reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk})
    assert permalink(effect.variant) in client.get(url).content.decode()
    set_url = reverse("gw-variantset", kwargs={"code": effect.variant.variant_set.code})
    assert permalink(effect.variant) in client.get(set_url).content.decode()
    page = client.get(permalink(effect.variant)).content.decode()
    assert reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk}) in page


def test_a_job_page_shows_its_permalink(as_user, victor, variant_set):
    job = variant_set.validation_job
    body = as_user(victor).get(reverse("gw-job", kwargs={"code": job.code})).content.decode()
    assert f'href="{reverse("gw-job", kwargs={"code": job.code})}" class="permalink"' in body


def test_every_stored_variant_gets_its_own_code(validated_set):
    """The worker's bulk insert fills the default per row."""
    codes = list(Variant.objects.filter(variant_set=validated_set).values_list("code", flat=True))
    assert len(codes) == 7 and None not in codes and len(set(codes)) == 7
