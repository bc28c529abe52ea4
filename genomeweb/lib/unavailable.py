"""A friendly 503 while the database is away (stopped, restarting, unreachable).

Without it a restart of PostgreSQL is a 500 page that says something broke on our side; it is
a wait, and the page and the API say how long to wait (``Retry-After``).
"""

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
API_PREFIX = "/api/"
API_DETAIL = f"The database is unavailable for a moment. Retry after {RETRY_AFTER_SECONDS} seconds."


class DatabaseUnavailableMiddleware:
    """Turn a database connection error in a view into a 503 with ``Retry-After``.

    It makes no query itself: the page is rendered without the request, so no context
    processor asks for the user or the session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database unavailable: %s %s (%s)", request.method, request.path, exception)
        return unavailable_response(request)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """JSON under /api/ (the API's errors are ``{"detail": ...}``), the 503 page elsewhere."""
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse({"detail": API_DETAIL}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database error raised outside a view (a middleware's query, such as
    a token lookup before the view or the session saved after it) is the same 503; anything
    else is the 500 page, rendered without a query."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        return unavailable_response(request)
    return HttpResponseServerError(loader.render_to_string("500.html"))
