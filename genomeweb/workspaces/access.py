"""The access rules, in one place: outsiders get 404, members without the role get 403.

Every object view goes through ``get_for_member``, so an object is looked up *within* the
workspaces the user belongs to: an outsider cannot even learn that a code exists. Membership is
read from the database on every request, so removing a member takes effect at once.
"""

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from genomeweb.workspaces.models import MANAGE_ROLES, READ_ROLES, WRITE_ROLES, Membership

M = TypeVar("M", bound=Model)

READ = "read"
WRITE = "write"
MANAGE = "manage"
_ALLOWED = {READ: READ_ROLES, WRITE: WRITE_ROLES, MANAGE: MANAGE_ROLES}


def get_for_member(
    queryset: QuerySet[M],
    request: HttpRequest,
    *,
    workspace_path: str = "workspace",
    need: str = READ,
    **lookup: object,
) -> tuple[M, Membership]:
    """The object matching ``lookup`` in one of the user's workspaces, and the user's membership.

    Args:
        queryset: where to look (e.g. ``Job.objects``).
        workspace_path: the ORM path from the object to its Workspace ("" for a Workspace).
        need: READ, WRITE or MANAGE.

    Raises:
        Http404: the object does not exist or the user is not a member of its workspace.
        PermissionDenied: the user is a member but their role does not allow ``need``.
    """
    prefix = f"{workspace_path}__" if workspace_path else ""
    user = request.user
    if not user.is_authenticated:
        raise Http404("not found")
    obj = queryset.filter(**{f"{prefix}memberships__user": user}, **lookup).first()
    if obj is None:
        raise Http404("not found")
    workspace = obj
    for step in workspace_path.split("__") if workspace_path else []:
        workspace = getattr(workspace, step)
    membership = Membership.objects.get(workspace=workspace, user=user)
    if membership.role not in _ALLOWED[need]:
        raise PermissionDenied(f"your role ({membership.role}) does not allow this")
    return obj, membership
