"""Every API operation, tried by each role, an outsider and no token at all: the pages' rules.

Outsiders get 404 (they cannot learn that a code exists), members whose role is too low get
403, requests without a valid token get 401. A meta-test fails when an operation in the
OpenAPI schema has no case here.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from genomeweb.api.v1 import api
from genomeweb.workspaces.access import READ, WRITE
from tests.test_access import World

pytestmark = pytest.mark.usefixtures("no_broker")
V1 = "/api/v1"
CATALOG = None  # shared by every user: no workspace object named
VCF = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"

# (method, path in the schema) -> (what it needs, its path's code, a body the schema accepts)
CASES = {
    ("get", "/genomes"): (CATALOG, None, None),
    ("get", "/models"): (CATALOG, None, None),
    ("get", "/models/{name}/tracks"): (CATALOG, lambda w: {"name": "access-model"}, None),
    ("get", "/workspaces"): (CATALOG, None, None),
    ("post", "/workspaces/{code}/variant-sets"): (
        WRITE,
        lambda w: {"code": w.workspace.code},
        "upload",
    ),
    ("get", "/variant-sets/{code}"): (READ, lambda w: {"code": w.variant_set.code}, None),
    ("post", "/variant-sets/{code}/score"): (
        WRITE,
        lambda w: {"code": w.variant_set.code},
        {"model": "access-model"},
    ),
    ("get", "/jobs/{code}/results"): (READ, lambda w: {"code": w.scoring_job.code}, None),
    ("post", "/workspaces/{code}/designs"): (
        WRITE,
        lambda w: {"code": w.workspace.code},
        {"model": "access-model", "region": "I:1-50"},
    ),
    ("get", "/designs/{code}"): (READ, lambda w: {"code": w.design.code}, None),
    ("post", "/designs/{code}/edits"): (
        WRITE,
        lambda w: {"code": w.design.code},
        {"version": 2, "edits": [{"kind": "deletion", "position": 10, "end_position": 11}]},
    ),
    ("post", "/designs/{code}/predict"): (
        WRITE,
        lambda w: {"code": w.design.code},
        {"tracks": []},
    ),
    ("post", "/workspaces/{code}/interpretations"): (
        WRITE,
        lambda w: {"code": w.workspace.code},
        {"method": "saliency", "model": "access-model", "region": "I:1-10"},
    ),
    ("get", "/jobs/{code}"): (READ, lambda w: {"code": w.job.code}, None),
    ("post", "/jobs/{code}/cancel"): (WRITE, lambda w: {"code": w.job.code}, None),
    ("get", "/jobs/{code}/bundle"): (READ, lambda w: {"code": w.job.code}, None),
    ("post", "/jobs/{code}/bundle"): (READ, lambda w: {"code": w.job.code}, {"report_top": 5}),
}
ALLOWED = {"owner": {READ, WRITE}, "editor": {READ, WRITE}, "viewer": {READ}}


def schema_operations() -> set[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return {(method, path.removeprefix(V1)) for path, ops in paths.items() for method in ops}


def test_every_api_operation_has_an_access_case():
    assert schema_operations() == set(CASES)


@pytest.fixture
def world(variant_set, alice, eddie, victor, bob):
    users = {"owner": alice, "editor": eddie, "viewer": victor, "outsider": bob}
    return World(variant_set, users), users


def call(api_client, key, w):
    method, path = key
    _, kwargs, body = CASES[key]
    url = V1 + path.format(**(kwargs(w) if kwargs else {}))
    if body == "upload":
        vcf = SimpleUploadedFile("access.vcf", VCF)
        return api_client.upload(url, {"genome": "mini", "vcf": vcf})
    if method == "get":
        return api_client.get(url)
    return api_client.post(url, body)


WORKSPACE_SCOPED = sorted(k for k, case in CASES.items() if case[0] is not CATALOG)


@pytest.mark.parametrize("key", WORKSPACE_SCOPED, ids="{0[0]} {0[1]}".format)
def test_outsiders_get_404(world, api_as, key):
    w, users = world
    response = call(api_as(users["outsider"]), key, w)
    assert response.status_code == 404, response.content
    assert response.json() == {"detail": "not found"}


@pytest.mark.parametrize("role", ["owner", "editor", "viewer"])
@pytest.mark.parametrize("key", WORKSPACE_SCOPED, ids="{0[0]} {0[1]}".format)
def test_members_get_what_their_role_allows(world, api_as, key, role):
    w, users = world
    response = call(api_as(users[role]), key, w)
    if CASES[key][0] in ALLOWED[role]:
        assert response.status_code in (200, 201, 202, 400, 409), response.content
    else:
        assert response.status_code == 403, response.content
        assert "does not allow" in response.json()["detail"]


@pytest.mark.parametrize("key", sorted(CASES), ids="{0[0]} {0[1]}".format)
def test_requests_without_a_token_get_401(world, api_as, key):
    w, _ = world
    response = call(api_as(None), key, w)
    assert response.status_code == 401 and "Bearer" in response.json()["detail"]


@pytest.mark.parametrize("key", sorted(CASES), ids="{0[0]} {0[1]}".format)
def test_the_catalog_is_open_to_any_token(world, api_as, key):
    w, users = world
    response = call(api_as(users["outsider"]), key, w)
    if CASES[key][0] is CATALOG:
        assert response.status_code == 200


def test_removal_takes_effect_at_once(world, api_as):
    w, users = world
    viewer = api_as(users["viewer"])
    url = f"{V1}/variant-sets/{w.variant_set.code}"
    assert viewer.get(url).status_code == 200
    w.viewer_membership.delete()
    assert viewer.get(url).status_code == 404
