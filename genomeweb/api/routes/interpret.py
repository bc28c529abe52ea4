"""Interpretation jobs: ISM, saliency and attention of a locus, as "Explain a prediction"."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Path, Router, Status

from genomeweb.api.errors import check, name_models
from genomeweb.api.output import job_out
from genomeweb.api.schemas import InterpretIn, JobOut, errors
from genomeweb.catalog.models import Predictor
from genomeweb.interpret.forms import InterpretForm
from genomeweb.interpret.views import submit
from genomeweb.workspaces.access import WRITE, get_for_member
from genomeweb.workspaces.models import Workspace

router = Router(tags=["interpretation"])


@router.post(
    "/workspaces/{code}/interpretations", response={202: JobOut, **errors(400, 401, 403, 404)}
)
def interpret(request: HttpRequest, code: Path[UUID], payload: InterpretIn):
    """Start an ISM, saliency or attention job (the same request twice is one job)."""
    workspace, _ = get_for_member(
        Workspace.objects, request, workspace_path="", need=WRITE, code=code
    )
    predictor = Predictor.objects.filter(name=payload.model).first()
    form = InterpretForm(_form_data(payload, predictor))
    name_models(form)
    check(form)
    return Status(202, job_out(request, submit(workspace, request.user, form)))


def _form_data(payload: InterpretIn, predictor: Predictor | None) -> dict:
    """InterpretForm's fields as the page posts them."""
    data = payload.dict(exclude={"tracks", "reverse_complement", "layer", "head"}) | {
        "model": predictor.pk if predictor else payload.model,
        "tracks": ",".join(payload.tracks),
        "layer": "" if payload.layer is None else str(payload.layer),
        "head": "" if payload.head is None else str(payload.head),
    }
    if payload.reverse_complement:
        data["reverse_complement"] = "on"
    return data
