"""ISM, saliency and attention jobs: a model window centred on the job's region, the
reference or a variant allele in it."""

from django.db import transaction

from engine.errors import InputError
from engine.interpret.ism_rules import MAX_ISM_BP
from engine.interpret.objectives import centred_window, gene_objective, track_objective
from engine.io.intervals import Interval
from engine.models import runtime
from engine.models.ensemble import Ensemble
from engine.pipeline.attention import run_attention
from engine.pipeline.common import Progress
from engine.pipeline.ism import run_ism
from engine.pipeline.saliency import run_saliency
from genomeweb.catalog.models import Gene as CatalogGene
from genomeweb.catalog.models import Predictor
from genomeweb.jobs.models import Job
from genomeweb.results.storage import job_dir, record_artifact
from worker.jobs.finishing import finish_job, model_use
from worker.jobs.inputs import allele_of


def run_ism_job(job: Job, progress: Progress) -> None:
    """ISM of the job's region, in a model window centred on it."""
    predictor, model, region = _interpretation_inputs(job)
    if len(region) > MAX_ISM_BP:
        raise InputError(f"ISM takes at most {MAX_ISM_BP:,} bp; this region has {len(region):,}")
    window = centred_window(model, region)
    objective = _objective(job, predictor, model, window)
    fasta, allele, matrices = (
        predictor.genome.fasta_file,
        allele_of(job),
        predictor.genome.motif_matrices(),
    )
    output = run_ism(
        model, fasta, region, window, objective, job_dir(job), progress, allele, matrices
    )
    finish_interpretation(job, output, predictor, model_use(predictor, model, objective.tracks))


def run_saliency_job(job: Job, progress: Progress) -> None:
    """Gradient × input over a model window centred on the job's region."""
    predictor, model, region = _interpretation_inputs(job)
    window = centred_window(model, region)
    objective = _objective(job, predictor, model, window)
    progress(0, 1)
    fasta, allele, matrices = (
        predictor.genome.fasta_file,
        allele_of(job),
        predictor.genome.motif_matrices(),
    )
    output = run_saliency(model, fasta, window, objective, job_dir(job), allele, matrices)
    finish_interpretation(job, output, predictor, model_use(predictor, model, objective.tracks))


def run_attention_job(job: Job, progress: Progress) -> None:
    """One transformer layer's attention over a model window centred on the job's region."""
    predictor, model, region = _interpretation_inputs(job)
    window = centred_window(model, region)
    genes = CatalogGene.objects.filter(
        genome=predictor.genome, chrom=window.chrom, end__gt=window.start, start__lt=window.end
    )
    progress(0, 1)
    try:
        output = run_attention(
            model,
            predictor.genome.fasta_file,
            window,
            job.params["layer"],
            job.params["head"],
            [gene.as_annotation() for gene in genes],
            job_dir(job),
            allele_of(job),
        )
    except ValueError as error:  # a layer or head the model does not have
        raise InputError(str(error)) from error
    # An attention map is one pass of the first replicate, forward, reading no output track.
    single_pass = Ensemble(model.replicates[:1], reverse_complement=False)
    finish_interpretation(job, output, predictor, model_use(predictor, single_pass, []))


def _interpretation_inputs(job: Job):
    params = job.params
    predictor = Predictor.objects.filter(name=params["model"]).select_related("genome").first()
    if predictor is None:
        raise InputError("The model of this job no longer exists.")
    model = runtime.ensemble(predictor.spec(), reverse_complement=params["reverse_complement"])
    chrom, start, end = params["region"]
    return predictor, model, Interval(chrom, start, end)


def _objective(job: Job, predictor: Predictor, model, window: Interval):
    """The job's objective: a gene (strand-matched tracks over its scored bins) or tracks."""
    wanted, log = job.params["objective"], job.params["log"]
    try:
        if wanted.get("gene"):
            row = CatalogGene.objects.filter(
                genome=predictor.genome, gene_id=wanted["gene"]
            ).first()
            if row is None:
                raise InputError(f"The gene {wanted['gene']} is not in this genome.")
            return gene_objective(model, window, row.as_annotation(), log=log)
        tracks = model.tracks.indices(wanted["tracks"])
        over = Interval(*wanted["over"]) if wanted.get("over") else None
        return track_objective(model, window, tracks, over, log=log)
    except (KeyError, ValueError) as error:
        raise InputError(str(error).strip("'\"")) from error


def finish_interpretation(job: Job, output, predictor: Predictor, used: dict) -> None:
    with transaction.atomic():
        for path, content_type, description in output.files:
            record_artifact(job, path, content_type=content_type, description=description)
        if not finish_job(job, output.summary, predictor.genome, used):
            transaction.set_rollback(True)
