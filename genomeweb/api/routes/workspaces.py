"""The caller's workspaces, with their role in each."""

from django.http import HttpRequest
from ninja import Router, Status

from genomeweb.api.schemas import WorkspaceOut, errors
from genomeweb.workspaces.models import Membership

router = Router(tags=["workspaces"])


@router.get("/workspaces", response={200: list[WorkspaceOut], **errors(401)})
def list_workspaces(request: HttpRequest):
    memberships = Membership.objects.filter(user=request.user).select_related("workspace")
    return Status(200, [_workspace_out(m) for m in memberships.order_by("workspace__name")])


def _workspace_out(membership: Membership) -> dict:
    workspace = membership.workspace
    return {
        "code": workspace.code,
        "name": workspace.name,
        "description": workspace.description,
        "role": membership.role,
    }
