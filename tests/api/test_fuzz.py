"""The API fuzzed against its own OpenAPI schema (schemathesis, in-process through WSGI).

Valid and invalid requests are generated from the schema for every operation: none may get a
5xx, and every answer must be one the schema declares (status code, content type, body). A
second fuzz sends valid requests with an outsider's and a viewer's token at real objects of
the workspace: an outsider always gets 404, a viewer's change always 403, and a request
without a token always 401.
"""

from itertools import product

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from genomeweb.api.models import ApiToken
from genomeweb.catalog.models import Architecture, Predictor, PredictorTrack
from genomeweb.designs.models import Design
from genomeweb.workspaces.access import WRITE
from tests.api.test_api_access import CASES, CATALOG, V1
from tests.test_access import World

pytestmark = pytest.mark.usefixtures("no_broker")
schema = schemathesis.openapi.from_wsgi(f"{V1}/openapi.json", get_wsgi_application())
# Requests the schema accepts, so the access rules alone decide the answer (invalid requests
# are the first fuzz's business; some of them also drop the Authorization header).
valid_requests = schemathesis.openapi.from_wsgi(f"{V1}/openapi.json", get_wsgi_application())
valid_requests.config.generation.update(modes=[GenerationMode.POSITIVE])
# Each operation is one test; its examples share the fixtures (and what earlier examples
# created), which is what a long-lived server sees too.
FUZZ = settings(
    max_examples=50,
    deadline=None,
    database=None,  # nothing written to the working tree
    suppress_health_check=list(HealthCheck),
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODEL = "fuzz-model"
TRACKS = ["fuzz.plus", "fuzz.minus", "other.plus"]
OFTEN = st.sampled_from([True, True, True, False])
# Values that exist in the world (the mini genome: contigs I and II, gene PAU8).
REAL_VALUES = {
    "model": [MODEL],
    "genome": ["mini"],
    "gene": ["PAU8"],
    "objective_gene": ["PAU8"],
    "region": ["I:100-300", "II", "II:1,001-1,100"],
}


class FuzzWorld(World):
    """The access tests' workspace, plus a model with tracks the fuzzer may aim at (the same
    tracks as the design's model)."""

    def __init__(self, variant_set, users):
        super().__init__(variant_set, users)
        predictor = Predictor.objects.create(
            name=MODEL,
            architecture=Architecture.YEAST,
            genome=variant_set.genome,
            sequence_length=1024,
            bin_size=32,
            crop_bp=128,
            replicates=[{"path": "nowhere", "sha256": "0" * 64}],
        )
        for (index, identifier), model in product(
            enumerate(TRACKS), [predictor, self.design.predictor]
        ):
            PredictorTrack.objects.create(
                predictor=model,
                index=index,
                identifier=identifier,
                strand=identifier[-1:],
                strand_pair=index,
            )
        self.tokens = {role: ApiToken.issue(user, "fuzz")[1] for role, user in users.items()}

    def call_as(self, role: str | None, case):
        """Send the case with this role's token (None: no Authorization header at all); the
        header schemathesis generated from the security scheme is replaced."""
        case.headers.pop("Authorization", None)
        if role:
            case.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return case.call()


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Django's WSGI handler closes the database connection after each request (the test
    client stops that, and so must a raw WSGI call, or the test's transaction goes with it)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(variant_set, alice, eddie, victor, bob) -> FuzzWorld:
    users = {"owner": alice, "editor": eddie, "viewer": victor, "outsider": bob}
    return FuzzWorld(variant_set, users)


def access_case(case) -> tuple:
    """The access tests' case of this operation (by the operation's own method and path:
    schemathesis also tries undeclared methods on a path)."""
    operation = case.operation
    return CASES[(operation.method.lower(), operation.path.removeprefix(V1))]


def real_objects(case, world: FuzzWorld) -> dict:
    """The path parameters that name this operation's object in the world's workspace."""
    _, kwargs, _ = access_case(case)
    return {key: str(value) for key, value in kwargs(world).items()} if kwargs else {}


def aim(case, world: FuzzWorld, data) -> None:
    """Mostly, real codes and names instead of random ones, to get past the lookups into the
    forms and the job submission (three times in four for each)."""
    if data.draw(OFTEN, label="real objects"):
        case.path_parameters = {**case.path_parameters, **real_objects(case, world)}
    if not isinstance(case.body, dict):
        return
    for key, choices in REAL_VALUES.items():
        if key in case.body and data.draw(OFTEN, label=f"real {key}"):
            case.body[key] = data.draw(st.sampled_from(choices), label=key)
    if "tracks" in case.body and data.draw(OFTEN, label="real tracks"):
        case.body["tracks"] = data.draw(st.lists(st.sampled_from(TRACKS), max_size=4))
    if {"gene", "region"} <= set(case.body) and data.draw(OFTEN, label="one locus"):
        del case.body[data.draw(st.sampled_from(["gene", "region"]))]  # a design takes one
    aim_edits(case.body, world, data)


def aim_edits(body: dict, world: FuzzWorld, data) -> None:
    """Edits on the design's current version, inside its window (I:1-100)."""
    if "version" in body and data.draw(OFTEN, label="current version"):
        body["version"] = Design.objects.get(pk=world.design.pk).version
    edits = body.get("edits")
    for edit in edits if isinstance(edits, list) else []:  # invalid requests hold anything
        if isinstance(edit, dict) and data.draw(OFTEN, label="inside the window"):
            edit["position"] = data.draw(st.integers(1, 100), label="position")


@schema.parametrize()
@schema.given(data=st.data())
@FUZZ
def test_no_request_gets_a_server_error_or_an_undeclared_answer(case, data, world):
    aim(case, world, data)
    response = world.call_as("editor", case)
    case.validate_response(response, checks=CHECKS)


@valid_requests.parametrize()
@settings(FUZZ, max_examples=20)
def test_no_request_gets_past_the_access_rules(case, world):
    if case.method.lower() != case.operation.method.lower():
        return  # an undeclared method: 405 before anything else
    need = access_case(case)[0]
    assert world.call_as(None, case).status_code == 401  # no token: nothing is even parsed
    if need is CATALOG:
        return
    case.path_parameters = {**case.path_parameters, **real_objects(case, world)}
    outsider = world.call_as("outsider", case)
    assert outsider.status_code == 404, (outsider.status_code, outsider.text)
    if need == WRITE:
        viewer = world.call_as("viewer", case)
        assert viewer.status_code == 403, (viewer.status_code, viewer.text)
