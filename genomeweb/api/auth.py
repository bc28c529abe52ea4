"""Who is calling: a personal token in ``Authorization: Bearer <token>``.

The API accepts only tokens (no session cookie, so no CSRF exposure). Result files accept a
token too, so a script can download what the API links to; every page stays session-only.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from genomeweb.api.models import ApiToken

MISSING = (
    "Authentication required: send 'Authorization: Bearer <token>' (create one under API tokens)."
)
REJECTED = "The token is unknown or revoked."
# URL names (besides the API's own) where a token stands in for a login.
TOKEN_URL_NAMES = frozenset({"gw-artifact", "gw-artifact-named"})


def bearer_secret(request: HttpRequest) -> str | None:
    """The token in the Authorization header, or None when the header is not a Bearer one."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip()


class TokenAuth(HttpBearer):
    """The API's one authentication: a token, or 401 with the reason."""

    def __call__(self, request: HttpRequest):
        secret = bearer_secret(request)
        if secret is None:
            raise AuthenticationError(message=MISSING)
        return self.authenticate(request, secret)

    def authenticate(self, request: HttpRequest, token: str):
        user = ApiToken.user_for(token) if token else None
        if user is None:
            raise AuthenticationError(message=REJECTED)
        request.user = user  # the access helpers read request.user, as the pages do
        return user


def unauthorized(detail: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="genomeweb"'
    return response


class FileTokenMiddleware:
    """Lets a Bearer token log a request in for the result-file URLs only.

    Without the header the file views behave as before (session login); with a bad token the
    answer is 401, not a redirect to a login page a script cannot use.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if request.resolver_match.url_name not in TOKEN_URL_NAMES:
            return None
        secret = bearer_secret(request)
        if secret is None:
            return None
        user = ApiToken.user_for(secret) if secret else None
        if user is None:
            return unauthorized(REJECTED)
        request.user = user
        return None
