"""Every error is JSON ``{"detail": "..."}``; invalid input also says which field and why."""

import json

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from genomeweb.api.auth import unauthorized
from genomeweb.variants.uploads import UPLOAD_TOO_LARGE

# Django's name for errors of the whole form; the API's is the body it came in.
FORM_WIDE = "__all__"


class InvalidInput(Exception):
    """The request is well-formed but a form (the pages' own validation) rejected it."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(describe(errors))


class Conflict(Exception):
    """The request does not fit the object's current state (HTTP 409)."""

    def __init__(self, detail: str, **extra) -> None:
        self.detail, self.extra = detail, extra
        super().__init__(detail)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for a URL no view matches: JSON under /api/, the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "No such API operation (see /api/v1/docs)."}, status=404)
    return page_not_found(request, exception)


def describe(errors: dict[str, list[str]]) -> str:
    parts = [f"{field}: {' '.join(messages)}" for field, messages in errors.items()]
    return "Invalid input. " + "; ".join(parts)


def form_errors(form: Form, prefix: str = "") -> dict[str, list[str]]:
    """A bound, invalid form's messages by API field name."""
    return {
        prefix + ("body" if field == FORM_WIDE else field): [e["message"] for e in messages]
        for field, messages in form.errors.get_json_data().items()
    }


def name_models(form: Form, where: str = "") -> None:
    """The API names a model where the form's field takes its pk: say which name is unknown.
    The name goes in through Django's ``%(value)s``, so a '%' in it is only text."""
    form.fields["model"].error_messages["invalid_choice"] = f"No model '%(value)s'{where}."


def check(form: Form) -> dict:
    """The form's cleaned data, or InvalidInput with its messages."""
    if not form.is_valid():
        raise InvalidInput(form_errors(form))
    return form.cleaned_data


class StrictJsonParser(Parser):
    """JSON as RFC 8259 has it: NaN and Infinity are not numbers a client may send."""

    def parse_body(self, request: HttpRequest):
        return json.loads(request.body, parse_constant=_reject_constant)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def install_handlers(api: NinjaAPI) -> None:
    api.add_exception_handler(ValidationError, _invalid_request)
    api.add_exception_handler(InvalidInput, _invalid_input)
    api.add_exception_handler(Conflict, _conflict)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(PermissionDenied, _forbidden)
    api.add_exception_handler(AuthenticationError, _unauthenticated)
    api.add_exception_handler(HttpError, _http_error)


def _invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if getattr(request, UPLOAD_TOO_LARGE, False):  # the upload handler dropped the file
        limit = settings.MAX_UPLOAD_BYTES // 2**20
        detail = f"The file is larger than the {limit} MB upload limit; compress it with bgzip."
        return JsonResponse({"detail": detail}, status=413)
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field(error["loc"]), []).append(error["msg"])
    return JsonResponse({"detail": describe(errors), "errors": errors}, status=400)


def _field(loc) -> str:
    """``("body", "payload", "edits", 0, "kind")`` → ``edits[0].kind``."""
    source, *path = loc
    if source == "body" and len(path) > 1:
        path = path[1:]  # the operation's own name for its body schema
    text = ""
    for step in path or [source]:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _invalid_input(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    return JsonResponse({"detail": str(exc), "errors": exc.errors}, status=400)


def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return JsonResponse({"detail": exc.detail, **exc.extra}, status=409)


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return JsonResponse({"detail": str(exc) or "Not found."}, status=404)


def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return JsonResponse({"detail": str(exc) or "Your role does not allow this."}, status=403)


def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return unauthorized(str(exc))


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return JsonResponse({"detail": str(exc)}, status=exc.status_code)
