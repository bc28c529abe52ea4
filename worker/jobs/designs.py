"""Design prediction jobs: reference and edited predictions of one saved version."""

from engine.designs.edits import Edit, apply_edits
from engine.errors import InputError
from engine.models import runtime
from engine.pipeline.common import Progress
from engine.pipeline.design import predict_design
from genomeweb.designs.models import Design
from genomeweb.jobs.models import Job
from genomeweb.results.storage import job_dir
from worker.jobs.finishing import model_use
from worker.jobs.interpretation import finish_interpretation
from worker.jobs.scoring import model_genes


def predict_design_job(job: Job, progress: Progress) -> None:
    """Reference and edited predictions of one saved version of a design."""
    params = job.params
    design = (
        Design.objects.filter(workspace=job.workspace, code=params["design"])
        .select_related("predictor__genome")
        .first()
    )
    version = design.versions.filter(number=params["version"]).first() if design else None
    if version is None:
        raise InputError("The design, or this version of it, no longer exists.")
    predictor = design.predictor
    model = runtime.ensemble(predictor.spec(), reverse_complement=params["reverse_complement"])
    try:
        tracks = model.tracks.indices(params["tracks"])
    except KeyError as error:
        raise InputError(f"The model no longer has these tracks: {error}") from error
    edits = [Edit.from_dict(data) for data in version.edits]
    if len(design.window) != model.sequence_length:
        raise InputError("The design's window no longer matches its model's input length.")
    progress(0, 1)
    output = predict_design(
        model,
        predictor.genome.fasta_file,
        design.window,
        apply_edits(design.reference_sequence(), edits),
        max((edit.end for edit in edits), default=0),
        tracks,
        model_genes(predictor, True) or [],
        job_dir(job),
    )
    finish_interpretation(job, output, predictor, model_use(predictor, model, tracks))
