"""While the database is away, pages are a friendly 503 with Retry-After and nobody is logged
out (genomeweb/lib/unavailable.py). RefusedQueries makes every query fail as with a stopped
PostgreSQL; tests/worker/test_database_outage.py stops a real one."""

import json

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.urls import reverse

from genomeweb.api.models import ApiToken


class RefusedQueries:
    """A query wrapper (Django's ``execute_wrapper``) that counts and refuses every query."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        raise OperationalError("connection refused: is the server running on port 5432?")


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False  # what a live site shows


def test_a_page_is_a_503_that_says_to_retry_and_asks_nothing_more_of_the_database(as_user, alice):
    client = as_user(alice)
    refused = RefusedQueries()
    with connection.execute_wrapper(refused):
        response = client.get(reverse("gw-home"))

    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "genomeweb is back in a moment" in page and "(error 503)" in page
    assert 'href="/"' in page and "Traceback" not in page and "connection refused" not in page
    assert refused.count == 1  # the view's session lookup; the 503 itself made no query


def test_an_outage_does_not_log_the_member_out(as_user, alice):
    client = as_user(alice)
    with connection.execute_wrapper(RefusedQueries()):
        response = client.get(reverse("gw-home"))

    # The session could not be read: the answer must not replace or delete its cookie, so the
    # member is still logged in once the database is back.
    assert response.status_code == 503
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_an_htmx_poll_gets_the_503_too(as_user, alice):
    client = as_user(alice)
    with connection.execute_wrapper(RefusedQueries()):
        response = client.get(reverse("gw-home"), HTTP_HX_REQUEST="true")
    assert response.status_code == 503 and response["Retry-After"] == "30"


def test_the_api_answers_a_json_503(client, alice):
    _, secret = ApiToken.issue(alice, "script")
    with connection.execute_wrapper(RefusedQueries()):
        response = client.get("/api/v1/workspaces", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert json.loads(response.content) == {
        "detail": "The database is unavailable for a moment. Retry after 30 seconds."
    }


def test_other_errors_stay_500s(as_user, alice, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not an outage")

    monkeypatch.setattr("genomeweb.workspaces.views.render", broken)
    client = as_user(alice)
    client.raise_request_exception = False
    response = client.get(reverse("gw-home"))
    assert response.status_code == 500 and "Retry-After" not in response


def test_a_query_outside_the_view_is_a_503_too(client, alice):
    """The file-token middleware looks the token up before the view runs: Django turns its
    error into the handler500 answer, which must be the same 503, not the 500 page."""
    import uuid

    _, secret = ApiToken.issue(alice, "script")
    client.raise_request_exception = False
    with connection.execute_wrapper(RefusedQueries()):
        response = client.get(f"/files/{uuid.uuid4()}/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "genomeweb is back in a moment" in response.content.decode()
