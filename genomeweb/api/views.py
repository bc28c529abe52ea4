"""The "API tokens" page: a user creates (the secret is shown once) and revokes their own."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from genomeweb.api.forms import TokenForm
from genomeweb.api.models import ApiToken


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        created, secret = ApiToken.issue(request.user, form.cleaned_data["name"])
        form = TokenForm()
    context = {
        "tokens": ApiToken.objects.filter(user=request.user),
        "form": form,
        "created": created,
        "secret": secret,
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    response = render(request, "api/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page may hold a secret
    return response


@login_required
@require_POST
def revoke(request: HttpRequest, code) -> HttpResponse:
    token = get_object_or_404(ApiToken, user=request.user, code=code)
    token.revoke()
    messages.success(request, f"Revoked the token '{token.name}': it no longer works.")
    return redirect("gw-api-tokens")
