from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from genomeweb.jobs.display import job_names, job_subject
from genomeweb.workspaces.access import MANAGE, READ, get_for_member
from genomeweb.workspaces.forms import AddMemberForm, RoleForm, WorkspaceForm
from genomeweb.workspaces.models import Membership, Role, Workspace


def _get_workspace_for_user(request: HttpRequest, code, need: str = READ):
    return get_for_member(Workspace.objects, request, workspace_path="", need=need, code=code)


def signup(request: HttpRequest) -> HttpResponse:
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        return redirect("gw-home")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("workspace").order_by("workspace__name")
    return render(
        request,
        "workspaces/home.html",
        {
            "memberships": memberships,
            "form": WorkspaceForm(),
        },
    )


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST)
    if not form.is_valid():
        memberships = request.user.memberships.select_related("workspace")
        return render(
            request, "workspaces/home.html", {"memberships": memberships, "form": form}, status=400
        )
    with transaction.atomic():
        workspace = form.save(commit=False)
        workspace.created_by = request.user
        workspace.save()
        Membership.objects.create(workspace=workspace, user=request.user, role=Role.OWNER)
    return redirect("gw-workspace", code=workspace.code)


@login_required
def detail(request: HttpRequest, code) -> HttpResponse:
    workspace, membership = _get_workspace_for_user(request, code)
    jobs = list(workspace.jobs.filter(parent=None).select_related("created_by")[:20])
    names = job_names(jobs)
    return render(
        request,
        "workspaces/detail.html",
        {
            "workspace": workspace,
            "membership": membership,
            "variant_sets": workspace.variant_sets.select_related("genome", "validation_job")[:50],
            "designs": workspace.designs.select_related("predictor", "updated_by")[:50],
            "jobs": [(job, job_subject(job, names)) for job in jobs],
        },
    )


@login_required
def members(request: HttpRequest, code) -> HttpResponse:
    workspace, membership = _get_workspace_for_user(request, code)
    return _render_members(request, workspace, membership, AddMemberForm())


def _render_members(request, workspace, membership, form, status=200) -> HttpResponse:
    return render(
        request,
        "workspaces/members.html",
        {
            "workspace": workspace,
            "membership": membership,
            "form": form,
            "memberships": workspace.memberships.select_related("user"),
            "roles": Role.choices,
        },
        status=status,
    )


@login_required
@require_POST
def add_member(request: HttpRequest, code) -> HttpResponse:
    workspace, membership = _get_workspace_for_user(request, code, MANAGE)
    form = AddMemberForm(request.POST)
    if not form.is_valid():
        return _render_members(request, workspace, membership, form, status=400)
    user = form.cleaned_data["who"]
    _, created = Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": form.cleaned_data["role"]}
    )
    if created:
        messages.success(request, f"{user.username} is now a member of {workspace.name}.")
    else:
        messages.info(request, f"{user.username} is already a member; change their role below.")
    return redirect("gw-members", code=workspace.code)


def _get_other_membership(request, code, member_code):
    workspace, _ = _get_workspace_for_user(request, code, MANAGE)
    return workspace, get_object_or_404(Membership, workspace=workspace, code=member_code)


@login_required
@require_POST
def change_role(request: HttpRequest, code, member_code) -> HttpResponse:
    workspace, target = _get_other_membership(request, code, member_code)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, editor or viewer.")
    elif (
        target.role == Role.OWNER
        and form.cleaned_data["role"] != Role.OWNER
        and (workspace.owner_count() == 1)
    ):
        messages.error(request, "A workspace needs an owner: make someone else owner first.")
    else:
        target.role = form.cleaned_data["role"]
        target.save(update_fields=["role"])
        messages.success(request, f"{target.user.username} is now {target.get_role_display()}.")
    return redirect("gw-members", code=workspace.code)


@login_required
@require_POST
def remove_member(request: HttpRequest, code, member_code) -> HttpResponse:
    workspace, target = _get_other_membership(request, code, member_code)
    if target.role == Role.OWNER and workspace.owner_count() == 1:
        messages.error(request, "The last owner cannot be removed: make someone else owner first.")
        return redirect("gw-members", code=workspace.code)
    target.delete()
    messages.success(request, f"{target.user.username} was removed from {workspace.name}.")
    if target.user_id == request.user.pk:
        return redirect("gw-home")
    return redirect("gw-members", code=workspace.code)
