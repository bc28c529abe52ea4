"""API fixtures: a token per role, and a client that sends one."""

import json

import pytest

from genomeweb.api.models import ApiToken


class ApiClient:
    """Django's test client with a Bearer token on every request (None: no header)."""

    def __init__(self, client, secret: str | None) -> None:
        self.client, self.secret = client, secret

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.secret}"} if self.secret else {}

    def get(self, path: str, params: dict | None = None, **extra):
        return self.client.get(path, params or {}, headers=self._headers(), **extra)

    def post(self, path: str, body: dict | None = None, **extra):
        return self.client.post(
            path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self._headers(),
            **extra,
        )

    def upload(self, path: str, data: dict):
        return self.client.post(path, data, headers=self._headers())


@pytest.fixture
def token_for():
    """``token_for(user)``: a new token's secret."""

    def issue(user) -> str:
        return ApiToken.issue(user, f"{user.username}'s test token")[1]

    return issue


@pytest.fixture
def api_as(client, token_for):
    """``api_as(user)``: an API client with that user's token (``api_as(None)``: no token)."""

    def make(user) -> ApiClient:
        return ApiClient(client, token_for(user) if user is not None else None)

    return make
