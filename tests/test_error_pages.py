"""The 403, 404 and 500 pages (templates/403.html, 404.html, 500.html), as served with
DEBUG off: styled, with the navigation and a way home, and the right status."""

from unittest import mock

import pytest
from django.template import loader
from django.urls import reverse


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False  # the error templates are what a live site shows


def test_a_missing_page_is_a_404_with_the_navigation_and_a_link_home(as_user, alice, db):
    response = as_user(alice).get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page and "/no/such/page/" in page
    assert f'href="{reverse("gw-home")}"' in page and "Go to your workspaces" in page
    assert 'class="topbar"' in page and reverse("gw-models") in page  # the usual top bar
    assert "app.css" in page


def test_someone_elses_job_is_a_404_that_reveals_nothing(as_user, bob, workspace):
    from genomeweb.jobs.models import Job, JobKind

    job = Job.objects.create(workspace=workspace, kind=JobKind.VALIDATE_VCF)
    response = as_user(bob).get(reverse("gw-job", kwargs={"code": job.code}))
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_a_404_offers_a_logged_out_visitor_the_login(client, db):
    page = client.get("/no/such/page/").content.decode()
    assert "Go to your workspaces" in page and reverse("login") in page


def test_an_action_the_role_forbids_is_a_403_that_says_why(as_user, victor, workspace):
    from genomeweb.jobs.models import Job, JobKind

    job = Job.objects.create(workspace=workspace, kind=JobKind.VALIDATE_VCF)
    response = as_user(victor).post(reverse("gw-job-cancel", kwargs={"code": job.code}))
    page = response.content.decode()
    assert response.status_code == 403
    assert "You may not do this here" in page and "Your role (viewer) does not allow this" in page
    assert f'href="{reverse("gw-home")}"' in page and 'class="topbar"' in page


def test_a_crash_is_a_500_page_with_a_link_home(as_user, alice, client):
    client = as_user(alice)
    client.raise_request_exception = False
    with mock.patch("genomeweb.workspaces.views.render", side_effect=RuntimeError("boom")):
        response = client.get(reverse("gw-home"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and 'href="/"' in page
    assert "boom" not in page and "Traceback" not in page


@pytest.mark.django_db
def test_the_500_page_needs_no_database_request_or_context(django_assert_num_queries):
    with django_assert_num_queries(0):
        page = loader.get_template("500.html").render()  # as server_error renders it
    assert "Go to your workspaces" in page and '<nav aria-label="Main">' in page


def test_an_expired_form_says_what_to_do(alice, db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("gw-workspace-create"), {"name": "Lab"})
    page = response.content.decode()
    assert response.status_code == 403 and "This form has expired" in page
    assert f'href="{reverse("gw-home")}"' in page
