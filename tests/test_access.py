"""Every URL that names an object, tried by its owner, an editor, a viewer and an outsider.

Outsiders get 404 (they cannot even learn that a code exists); members whose role is too low
get 403; everyone else gets through. A meta-test fails when a URL pattern has no case here.
"""

import pytest
from django.urls import get_resolver

from engine.designs.edits import Edit
from engine.io.intervals import Interval
from genomeweb.catalog.models import Architecture, Predictor
from genomeweb.designs.models import Design
from genomeweb.jobs.models import Job, JobKind, JobStatus
from genomeweb.variants.models import VariantEffect, VariantNote
from genomeweb.workspaces.access import MANAGE, READ, WRITE

# url name -> (method, what the view needs, how to build its kwargs from the fixtures)
CASES = {
    "gw-workspace": ("get", READ, lambda w: {"code": w.workspace.code}),
    "gw-members": ("get", READ, lambda w: {"code": w.workspace.code}),
    "gw-member-add": ("post", MANAGE, lambda w: {"code": w.workspace.code}),
    "gw-member-role": (
        "post",
        MANAGE,
        lambda w: {"code": w.workspace.code, "member_code": w.viewer_membership.code},
    ),
    "gw-member-remove": (
        "post",
        MANAGE,
        lambda w: {"code": w.workspace.code, "member_code": w.viewer_membership.code},
    ),
    "gw-variantset-upload": ("get", WRITE, lambda w: {"code": w.workspace.code}),
    "gw-variantset": ("get", READ, lambda w: {"code": w.variant_set.code}),
    "gw-variantset-score": ("get", WRITE, lambda w: {"code": w.variant_set.code}),
    "gw-effects": ("get", READ, lambda w: {"code": w.scoring_job.code}),
    "gw-effects-bed": ("get", READ, lambda w: {"code": w.scoring_job.code}),
    "gw-effect": ("get", READ, lambda w: {"code": w.scoring_job.code, "effect_id": w.effect.pk}),
    "gw-effect-tracks": (
        "post",
        WRITE,
        lambda w: {"code": w.scoring_job.code, "effect_id": w.effect.pk},
    ),
    "gw-effect-explain": (
        "post",
        WRITE,
        lambda w: {"code": w.scoring_job.code, "effect_id": w.effect.pk},
    ),
    "gw-interpret-alleles": ("get", READ, lambda w: {"code": w.allele_pair[0].code}),
    "gw-variant-search": ("get", READ, lambda w: {"code": w.workspace.code}),
    "gw-variant": ("get", READ, lambda w: {"code": w.effect.variant.code}),
    "gw-variant-mark": ("post", WRITE, lambda w: {"code": w.effect.variant.code}),
    "gw-variant-note-add": ("post", WRITE, lambda w: {"code": w.effect.variant.code}),
    # the editor wrote the note: the owner and the editor may delete it
    "gw-variant-note-delete": (
        "post",
        WRITE,
        lambda w: {"code": w.note.variant.code, "note_code": w.note.code},
    ),
    "gw-artifact-named": (
        "get",
        READ,
        lambda w: {"code": w.artifact.code, "filename": w.artifact.name},
    ),
    "gw-job": ("get", READ, lambda w: {"code": w.job.code}),
    "gw-job-cancel": ("post", WRITE, lambda w: {"code": w.job.code}),
    "gw-artifact": ("get", READ, lambda w: {"code": w.artifact.code}),
    "gw-bundle": ("post", READ, lambda w: {"code": w.job.code}),
    "gw-design-predict": ("post", WRITE, lambda w: {"code": w.design.code}),
    "gw-interpret-new": ("get", WRITE, lambda w: {"code": w.workspace.code}),
    "gw-interpretation": ("get", READ, lambda w: {"code": w.saliency_job.code}),
    "gw-interpret-focused": ("post", WRITE, lambda w: {"code": w.saliency_job.code}),
    "gw-attention-links": ("get", READ, lambda w: {"code": w.attention_job.code, "row": 0}),
    "gw-design-new": ("get", WRITE, lambda w: {"code": w.workspace.code}),
    "gw-design": ("get", READ, lambda w: {"code": w.design.code}),
    "gw-design-edit-add": ("post", WRITE, lambda w: {"code": w.design.code}),
    "gw-design-edit-remove": ("post", WRITE, lambda w: {"code": w.design.code, "index": 0}),
    "gw-design-paste": ("post", WRITE, lambda w: {"code": w.design.code}),
    "gw-design-motifs": ("get", WRITE, lambda w: {"code": w.design.code}),
    "gw-design-fasta": ("get", READ, lambda w: {"code": w.design.code}),
}
# URLs that name no workspace object: any logged-in user may open them.
NOT_WORKSPACE_SCOPED = {
    "login",
    "logout",
    "gw-signup",
    "gw-home",
    "gw-workspace-create",
    "gw-genomes",  # the shared catalog: genomes and models
    "gw-genome",
    "gw-models",
    "gw-model",
    "gw-genome-file",
    "gw-observed-file",
    "gw-api-tokens",  # a user's own tokens (the revoke URL is checked below)
}
# URLs that name an object of one user: anyone else gets 404.
USER_SCOPED = {"gw-api-token-revoke"}
ALLOWED = {"owner": {READ, WRITE, MANAGE}, "editor": {READ, WRITE}, "viewer": {READ}}


class World:
    def __init__(self, variant_set, users):
        self.variant_set = variant_set
        self.workspace = variant_set.workspace
        self.job = variant_set.validation_job
        self.artifact = self.job.artifacts.get()
        self.scoring_job = Job.objects.create(
            workspace=self.workspace,
            created_by=users["owner"],
            kind=JobKind.SCORE_VARIANTS,
            status=JobStatus.SUCCEEDED,
            params={
                "variant_set": str(variant_set.code),
                "scorers": ["logSED"],
                "tracks": [],
                "model": "none",
            },
        )
        self.effect = VariantEffect.objects.create(
            job=self.scoring_job, variant=variant_set.variants.get(), max_abs=0.5, primary=0.5
        )
        self.viewer_membership = self.workspace.memberships.get(user=users["viewer"])
        self.note = VariantNote.objects.create(
            variant=self.effect.variant, author=users["editor"], text="worth a look"
        )
        self.saliency_job = Job.objects.create(
            workspace=self.workspace,
            created_by=users["owner"],
            kind=JobKind.SALIENCY,
            status=JobStatus.SUCCEEDED,
            params={"model": "none", "region": ["I", 0, 10], "objective": {"gene": "X"}},
            summary={"focused_ism": ["I", 0, 192], "objective": "x"},
        )
        self.attention_job = attention_job(self.workspace, users["owner"])
        self.allele_pair = allele_pair(self.workspace, users["owner"], variant_set.variants.get())
        self.design = self._design(users["owner"])

    def _design(self, owner):
        predictor = Predictor.objects.create(
            name="access-model",
            architecture=Architecture.YEAST,
            genome=self.variant_set.genome,
            sequence_length=100,
            bin_size=32,
            crop_bp=0,
        )
        design = Design.start_new(
            workspace=self.workspace,
            user=owner,
            predictor=predictor,
            window=Interval("I", 0, 100),
            name="access",
        )
        design.save_edits([Edit("deletion", 0, 1)], expected_version=1, user=owner)
        return design


def allele_pair(workspace, user, variant) -> tuple[Job, Job]:
    """A variant's reference and alternative saliency jobs, still queued."""
    params = {"model": "none", "region": ["I", 99, 100], "objective": {"gene": "X"}, "log": True}
    reference = Job.objects.create(
        workspace=workspace,
        created_by=user,
        kind=JobKind.SALIENCY,
        params=params | {"allele": {"variant": variant.pk, "side": "ref"}},
    )
    alternative = Job.objects.create(
        workspace=workspace,
        created_by=user,
        kind=JobKind.SALIENCY,
        params=params
        | {"allele": {"variant": variant.pk, "side": "alt"}, "pair": str(reference.code)},
    )
    return reference, alternative


def attention_job(workspace, user) -> Job:
    """A finished attention job with its map on disk (the links view reads it)."""
    import numpy as np

    from genomeweb.results.storage import job_dir, record_artifact

    job = Job.objects.create(
        workspace=workspace,
        created_by=user,
        kind=JobKind.ATTENTION,
        status=JobStatus.SUCCEEDED,
        params={"model": "none", "region": ["I", 0, 10], "layer": 0, "head": None},
        summary={"window": ["I", 0, 512]},
    )
    path = job_dir(job) / "attention.npz"
    weights = np.full((4, 4), 0.25, dtype=np.float32)
    np.savez(path, weights=weights, chrom="I", window_start=0, window_end=512, token_bp=128)
    record_artifact(job, path, content_type="application/octet-stream")
    return job


@pytest.fixture
def world(variant_set, alice, eddie, victor, bob):
    users = {"owner": alice, "editor": eddie, "viewer": victor, "outsider": bob}
    return World(variant_set, users), users


def test_every_url_pattern_has_an_access_case():
    # The JSON API is one included resolver; tests/api/test_api_access.py covers each operation.
    names = {p.name for p in get_resolver().url_patterns if getattr(p, "name", None)}
    assert names - NOT_WORKSPACE_SCOPED - USER_SCOPED == set(CASES)


def test_only_its_owner_may_revoke_a_token(client, alice, bob):
    from django.urls import reverse

    from genomeweb.api.models import ApiToken

    token, _ = ApiToken.issue(alice, "laptop")
    url = reverse("gw-api-token-revoke", kwargs={"code": token.code})
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(bob)
    assert client.post(url).status_code == 404
    client.force_login(alice)
    assert client.post(url).status_code == 302
    token.refresh_from_db()
    assert token.is_revoked


@pytest.mark.parametrize("name", sorted(CASES))
def test_outsiders_get_404(world, client, name):
    w, users = world
    method, _, kwargs = CASES[name]
    client.force_login(users["outsider"])
    from django.urls import reverse

    response = getattr(client, method)(reverse(name, kwargs=kwargs(w)))
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["owner", "editor", "viewer"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_members_get_what_their_role_allows(world, client, name, role):
    from django.urls import reverse

    w, users = world
    method, need, kwargs = CASES[name]
    client.force_login(users[role])
    response = getattr(client, method)(reverse(name, kwargs=kwargs(w)))
    if need in ALLOWED[role]:
        assert response.status_code in (200, 302, 400), response.status_code
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(CASES))
def test_anonymous_users_are_sent_to_login(world, client, name):
    from django.urls import reverse

    w, _ = world
    method, _, kwargs = CASES[name]
    response = getattr(client, method)(reverse(name, kwargs=kwargs(w)))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_removal_takes_effect_at_once(world, client):
    from django.urls import reverse

    w, users = world
    client.force_login(users["viewer"])
    url = reverse("gw-variantset", kwargs={"code": w.variant_set.code})
    assert client.get(url).status_code == 200
    w.viewer_membership.delete()
    assert client.get(url).status_code == 404
