"""Personal API tokens: created and revoked on their page, checked on every API request."""

import re

from django.urls import reverse

from genomeweb.api.models import ApiToken, digest

TOKENS = "/account/api-tokens/"


def create_token(client, name: str = "laptop") -> str:
    response = client.post(TOKENS, {"name": name})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    return re.search(r'<code id="token-secret">(gw_[\w-]{40})</code>', response.content.decode())[1]


def test_the_secret_is_shown_once_and_only_its_hash_is_kept(as_user, alice):
    client = as_user(alice)
    secret = create_token(client)
    token = ApiToken.objects.get(user=alice)
    assert token.key_hash == digest(secret) and secret not in str(token.__dict__)
    page = client.get(TOKENS).content.decode()
    assert "laptop" in page and secret not in page and token.hint in page


def test_a_token_lets_a_script_in_until_it_is_revoked(as_user, client, alice, workspace):
    secret = create_token(as_user(alice))
    client.logout()  # a script has no session
    headers = {"Authorization": f"Bearer {secret}"}
    response = client.get("/api/v1/workspaces", headers=headers)
    assert response.status_code == 200 and response.json()[0]["role"] == "owner"
    assert ApiToken.objects.get(user=alice).last_used is not None

    token = ApiToken.objects.get(user=alice)
    client.force_login(alice)
    revoke = reverse("gw-api-token-revoke", kwargs={"code": token.code})
    assert client.post(revoke).status_code == 302
    assert "Revoked" in client.get(TOKENS).content.decode()
    client.logout()
    response = client.get("/api/v1/workspaces", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "The token is unknown or revoked."}


def test_a_user_sees_only_their_own_tokens(as_user, alice, bob):
    ApiToken.issue(alice, "alice's cluster")
    page = as_user(bob).get(TOKENS).content.decode()
    assert "alice's cluster" not in page and "You have no tokens yet" in page


def test_a_token_needs_a_name(as_user, alice):
    response = as_user(alice).post(TOKENS, {"name": ""})
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_the_page_needs_a_login(client, db):
    response = client.get(TOKENS)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_top_bar_links_to_the_tokens(as_user, alice):
    assert f'href="{TOKENS}"' in as_user(alice).get("/").content.decode()


def test_the_api_takes_no_session_only_a_token(as_user, alice, workspace):
    response = as_user(alice).get("/api/v1/workspaces")  # logged in, but no token
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="genomeweb"'
    assert "Authorization: Bearer" in response.json()["detail"]


def test_unknown_and_malformed_tokens_get_401(client, db):
    for header in ("Bearer gw_unknown", "Bearer ", "Bearer", "Token abc", "Basic Zm9vOmJhcg=="):
        response = client.get("/api/v1/models", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert set(response.json()) == {"detail"}


def test_an_inactive_users_token_stops_working(client, alice):
    secret = ApiToken.issue(alice, "laptop")[1]
    alice.is_active = False
    alice.save()
    response = client.get("/api/v1/models", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_an_administrator_creates_a_token_from_the_command_line(alice, client):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_token", "alice", "cluster scripts", stdout=out)
    secret = out.getvalue().strip()
    assert ApiToken.objects.get(user=alice).name == "cluster scripts"
    response = client.get("/api/v1/workspaces", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_a_token_post_needs_no_csrf_token_but_the_pages_do(alice, workspace):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    secret = ApiToken.issue(alice, "laptop")[1]
    url = f"/api/v1/workspaces/{workspace.code}/designs"
    response = client.post(
        url, "{}", content_type="application/json", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 400  # validated, not refused by the CSRF check
    client.force_login(alice)
    assert client.post(TOKENS, {"name": "no csrf"}).status_code == 403
