"""Sequence designs: start one, add edits (optimistic concurrency), predict it."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Path, Router, Status

from engine.designs.edits import Edit
from genomeweb.api.errors import Conflict, InvalidInput, check, form_errors, name_models
from genomeweb.api.output import design_out, job_out
from genomeweb.api.schemas import (
    ConflictOut,
    DesignOut,
    EditIn,
    EditsIn,
    JobOut,
    NewDesignIn,
    PredictIn,
    errors,
)
from genomeweb.catalog.models import Predictor
from genomeweb.designs import prediction
from genomeweb.designs.forms import EditForm, NewDesignForm
from genomeweb.designs.models import Design
from genomeweb.workspaces.access import READ, WRITE, get_for_member
from genomeweb.workspaces.models import Workspace

router = Router(tags=["designs"])


def _get_design(request: HttpRequest, code: UUID, need: str = READ) -> Design:
    queryset = Design.objects.select_related("workspace", "genome", "predictor")
    return get_for_member(queryset, request, need=need, code=code)[0]


@router.post("/workspaces/{code}/designs", response={201: DesignOut, **errors(400, 401, 403, 404)})
def create_design(request: HttpRequest, code: Path[UUID], payload: NewDesignIn):
    """A model-sized window centred on a gene's TSS or on a region, with no edits yet."""
    workspace, _ = get_for_member(
        Workspace.objects, request, workspace_path="", need=WRITE, code=code
    )
    predictor = Predictor.objects.filter(name=payload.model).first()
    data = payload.dict() | {"model": predictor.pk if predictor else payload.model}
    form = NewDesignForm(data)
    name_models(form)
    check(form)
    design = form.save(workspace, request.user)
    return Status(201, design_out(design))


@router.get("/designs/{code}", response={200: DesignOut, **errors(400, 401, 404)})
def get_design(request: HttpRequest, code: Path[UUID]):
    """The design's window, current version and edits (1-based genome positions)."""
    return Status(200, design_out(_get_design(request, code)))


@router.post(
    "/designs/{code}/edits",
    response={200: DesignOut, **errors(400, 401, 403, 404), 409: ConflictOut},
)
def add_edits(request: HttpRequest, code: Path[UUID], payload: EditsIn):
    """Add edits on top of ``version`` and save them as the next version. If anyone saved
    since ``version``, nothing changes and the answer is 409 with the current version."""
    design = _get_design(request, code, need=WRITE)
    if payload.version != design.version:
        raise _conflict(design, payload.version)
    edits = [_edit(design, payload.version, edit, i) for i, edit in enumerate(payload.edits)]
    message = payload.message or f"Added {len(edits)} edit(s) through the API"
    try:
        saved = design.save_edits(
            [*design.edit_list(), *edits],
            expected_version=payload.version,
            user=request.user,
            message=message,
        )
    except ValueError as error:
        raise InvalidInput({"edits": [str(error)]}) from None
    if not saved:
        design.refresh_from_db()
        raise _conflict(design, payload.version)
    return Status(200, design_out(design))


def _edit(design: Design, version: int, edit: EditIn, index: int) -> Edit:
    """One edit through the page's form (1-based genome positions to window coordinates)."""
    data = {
        "version": version,
        "kind": edit.kind,
        "position": str(edit.position),
        "end_position": "" if edit.end_position is None else str(edit.end_position),
        "bases": edit.bases,
        "label": edit.label,
    }
    form = EditForm(data, design=design)
    if not form.is_valid():
        raise InvalidInput(form_errors(form, prefix=f"edits[{index}]."))
    return form.edit()


def _conflict(design: Design, expected: int) -> Conflict:
    return Conflict(
        f"The design was saved since version {expected}: it is at version {design.version}. "
        "Read it again and send your edits on top of that version.",
        version=design.version,
    )


@router.post("/designs/{code}/predict", response={202: JobOut, **errors(400, 401, 403, 404)})
def predict_design(request: HttpRequest, code: Path[UUID], payload: PredictIn):
    """Predict the current version against the reference (once per version and tracks)."""
    design = _get_design(request, code, need=WRITE)
    tracks = payload.tracks or prediction.default_tracks(design)
    known = set(
        design.predictor.tracks.filter(identifier__in=tracks).values_list("identifier", flat=True)
    )
    unknown = [t for t in tracks if t not in known]
    if unknown or not tracks or len(set(tracks)) > prediction.MAX_TRACKS:
        raise InvalidInput({"tracks": [_track_problem(design, unknown)]})
    job = prediction.submit_prediction(design, request.user, sorted(set(tracks)))
    return Status(202, job_out(request, job))


def _track_problem(design: Design, unknown: list[str]) -> str:
    if unknown:
        return f"Not tracks of {design.predictor.name}: {', '.join(unknown[:5])}"
    return f"Choose 1 to {prediction.MAX_TRACKS} tracks to predict."
