import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from genomeweb.workspaces.models import Membership, Role, Workspace


def members_url(workspace, name="gw-members", membership=None):
    kwargs = {"code": workspace.code}
    if membership is not None:
        kwargs["member_code"] = membership.code
    return reverse(name, kwargs=kwargs)


def test_signup_logs_the_new_user_in(client, db):
    response = client.post(
        reverse("gw-signup"),
        {
            "username": "newbie",
            "password1": "a-long-unusual-passphrase-42",
            "password2": "a-long-unusual-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("gw-home")).status_code == 200
    assert User.objects.filter(username="newbie").exists()


def test_creating_a_workspace_makes_the_creator_its_owner(as_user, bob):
    response = as_user(bob).post(reverse("gw-workspace-create"), {"name": "Bob's lab"})
    workspace = Workspace.objects.get(name="Bob's lab")
    assert response.status_code == 302
    assert workspace.memberships.get().role == Role.OWNER


def test_a_workspace_needs_a_name(as_user, bob):
    response = as_user(bob).post(reverse("gw-workspace-create"), {"name": ""})
    assert response.status_code == 400
    assert not Workspace.objects.exists()


def test_home_lists_only_my_workspaces(as_user, workspace, bob):
    Workspace.objects.create(name="Secret lab")
    page = as_user(bob).get(reverse("gw-home")).content.decode()
    assert "Yeast lab" not in page and "Secret lab" not in page


def test_the_owner_adds_an_existing_user_by_email(as_user, alice, workspace, bob):
    url = members_url(workspace, "gw-member-add")
    response = as_user(alice).post(url, {"who": "BOB@example.org", "role": "editor"})
    assert response.status_code == 302
    assert workspace.memberships.get(user=bob).role == Role.EDITOR


def test_adding_an_unknown_user_says_so(as_user, alice, workspace):
    response = as_user(alice).post(
        members_url(workspace, "gw-member-add"), {"who": "nobody", "role": "viewer"}
    )
    assert response.status_code == 400
    assert "No user &#x27;nobody&#x27; exists" in response.content.decode()


def test_the_owner_changes_a_role(as_user, alice, victor, workspace):
    membership = workspace.memberships.get(user=victor)
    as_user(alice).post(members_url(workspace, "gw-member-role", membership), {"role": "editor"})
    membership.refresh_from_db()
    assert membership.role == Role.EDITOR


def test_the_last_owner_cannot_step_down(as_user, alice, workspace):
    membership = workspace.memberships.get(user=alice)
    as_user(alice).post(members_url(workspace, "gw-member-role", membership), {"role": "viewer"})
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_the_last_owner_cannot_be_removed(as_user, alice, workspace):
    membership = workspace.memberships.get(user=alice)
    as_user(alice).post(members_url(workspace, "gw-member-remove", membership))
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_a_removed_member_loses_access_at_once(as_user, alice, victor, workspace, client):
    membership = workspace.memberships.get(user=victor)
    as_user(alice).post(members_url(workspace, "gw-member-remove", membership))
    client.force_login(victor)
    assert client.get(reverse("gw-workspace", kwargs={"code": workspace.code})).status_code == 404


@pytest.mark.parametrize("user_fixture", ["eddie", "victor"])
def test_only_owners_manage_members(request, as_user, workspace, bob, user_fixture):
    user = request.getfixturevalue(user_fixture)
    response = as_user(user).post(
        members_url(workspace, "gw-member-add"), {"who": "bob", "role": "owner"}
    )
    assert response.status_code == 403
    assert not workspace.memberships.filter(user=bob).exists()


def test_viewers_see_no_upload_button(as_user, victor, eddie, workspace):
    url = reverse("gw-workspace", kwargs={"code": workspace.code})
    assert b"Upload a VCF" not in as_user(victor).get(url).content
    assert b"Upload a VCF" in as_user(eddie).get(url).content


def test_recent_jobs_say_what_they_ran_on_and_how_long(as_user, victor, variant_set, workspace):
    from datetime import timedelta

    from django.utils import timezone

    from genomeweb.jobs.models import Job, JobKind, JobStatus

    started = timezone.now() - timedelta(minutes=3)
    Job.objects.create(
        workspace=workspace,
        kind=JobKind.SCORE_VARIANTS,
        status=JobStatus.SUCCEEDED,
        params={"variant_set": str(variant_set.code), "model": "tiny", "tracks": ["a"]},
        started_at=started,
        finished_at=started + timedelta(seconds=65),
    )
    Job.objects.create(
        workspace=workspace,
        kind=JobKind.SALIENCY,
        status=JobStatus.RUNNING,
        params={"model": "tiny", "region": ["I", 2144, 2192], "objective": {"gene": "YAL068C"}},
        started_at=started,
        progress_done=1,
        progress_total=4,
    )
    url = reverse("gw-workspace", kwargs={"code": workspace.code})
    page = as_user(victor).get(url).content.decode()
    assert f"{variant_set.name} · tiny · 1 track" in page and "took 1 min 5 s" in page
    assert "tiny · gene PAU8 · I:2,145-2,192" in page and "Running</span> 25%" in page
