"""What the API reads and writes (pydantic, so the OpenAPI schema says exactly this).

Strings that reach the database refuse NUL characters, which PostgreSQL cannot store; numbers
have bounds, so no request can make an integer the database or Python refuses.
"""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict, StringConstraints, WithJsonSchema

from engine.designs.edits import KINDS as EDIT_KINDS
from engine.interpret.ism_rules import FOCUSED_ISM_BP, MAX_ISM_BP
from genomeweb.variants.forms import DEFAULT_SCORERS, SCORER_CHOICES

NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(max_length=1000, pattern=NO_NUL)]
Name = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
Slug = Annotated[str, StringConstraints(max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")]
PageNumber = Annotated[int, Field(ge=1, le=2**31 - 1, description="From 1")]
Scorer = Literal[tuple(code for code, _ in SCORER_CHOICES)]  # type: ignore[valid-type]
EditKind = Literal[EDIT_KINDS]  # type: ignore[valid-type]
Position = Annotated[int, Field(ge=-(2**40), le=2**40, description="1-based genome position")]


class Input(Schema):
    """A request body: a misspelt field is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = Field(
        None, description="Invalid input: the messages by field"
    )


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """The error answers an operation declares: 400 invalid input, 401 no or bad token,
    403 a role too low, 404 not found or not yours, 413 an upload too large."""
    return dict.fromkeys(codes, ErrorOut)


class ConflictOut(Schema):
    detail: str
    version: int | None = Field(None, description="A design's current version")
    status: str | None = Field(None, description="A job's current status")


class GenomeOut(Schema):
    name: str
    species: str
    description: str


class ModelOut(Schema):
    name: str
    architecture: str
    description: str
    genome: str
    sequence_length: int = Field(description="Input length, bp")
    bin_size: int = Field(description="Output bin width, bp")
    output_bins: int
    track_count: int
    replicates: int
    reverse_complement_by_default: bool
    default_shifts: list[int] = Field(description="Input shifts (bp) scoring averages by default")


class TrackOut(Schema):
    index: int
    identifier: str
    description: str
    assay: str
    sample: str
    strand: str


class PageInfo(Schema):
    count: int = Field(description="Items matching, on every page")
    page: int
    pages: int
    page_size: int


class TrackQuery(Schema):
    q: Name = Field(
        "", description="Words every track must match (identifier, description, assay or sample)"
    )
    assay: Name = ""
    page: PageNumber = 1


class TrackPage(PageInfo):
    items: list[TrackOut]


class WorkspaceOut(Schema):
    code: UUID
    name: str
    description: str
    role: Literal["owner", "editor", "viewer"]


class ArtifactOut(Schema):
    code: UUID
    name: str
    description: str
    content_type: str
    size: int
    sha256: str
    url: str = Field(description="Download: the same token works there; byte ranges supported")


class JobOut(Schema):
    code: UUID
    workspace: UUID
    kind: str
    status: Literal["queued", "running", "waiting", "succeeded", "failed", "cancelled"]
    is_final: bool
    percent: int
    error: str
    cancel_requested: bool
    params: dict[str, Any]
    summary: dict[str, Any] = Field(
        description="What the job did; a scoring job's has `alleles` and `reused` (alleles whose "
        "scores were taken from earlier predictions with the same model weights, genome and "
        "settings), and `kept_elsewhere` when stored scores held other tracks or scorers"
    )
    created: datetime
    started_at: datetime | None
    finished_at: datetime | None
    artifacts: list[ArtifactOut]


class VariantSetOut(Schema):
    code: UUID
    workspace: UUID
    name: str
    genome: str
    original_filename: str
    size: int
    created: datetime
    status: str = Field(description="Its validation job's status")
    validation_job: JobOut | None
    records_read: int
    accepted: int
    skipped: int
    rejected: int
    duplicates: int
    realigned: int = Field(description="Accepted alleles left-aligned or trimmed at intake")
    reasons: dict[str, int] = Field(description="Why records were not accepted: reason → count")
    warnings: list[str]


class UploadIn(Schema):
    """The form fields sent with the VCF file (multipart)."""

    genome: Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NO_NUL)] = Field(
        description="The genome's name, e.g. sacCer3 (GET /genomes)"
    )
    name: Name = Field("", description="Defaults to the file name")
    # A form field is a string or absent: there is no null to send.
    submission: Annotated[UUID | None, WithJsonSchema({"type": "string", "format": "uuid"})] = (
        Field(None, description="A key per upload: a retry with the same key returns the first")
    )


class ScoreIn(Input):
    model: Name
    tracks: list[Name] = Field(
        [],
        max_length=20_000,
        description="Track identifiers; empty: every track matching the "
        "query and assay (all tracks when both are empty)",
    )
    track_query: Text = Field("", description="Words every chosen track must match")
    assay: Name = ""
    scorers: list[Scorer] = Field(
        list(DEFAULT_SCORERS),
        min_length=1,
        max_length=9,
        description="The first ranks the results (their max_abs and primary)",
    )
    reverse_complement: bool | None = Field(None, description="Default: the model's default")
    shifts: list[Annotated[int, Field(ge=-1000, le=1000)]] | None = Field(
        None,
        max_length=20,
        description="Input shifts (bp) whose scores are averaged. Default: the model's "
        "default_shifts, which make its scores robust to the window's placement",
    )
    replicates: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        None,
        description="Model replicates (folds) to score with: each allele's score is their "
        "mean, its spread their standard deviation. Default: all of the model's",
    )
    genes: bool = Field(True, description="Also score genes in each variant's window")


class EffectOut(Schema):
    id: int
    chrom: str
    pos: int = Field(description="1-based, as in the VCF")
    ref: str
    alt: str
    ident: str = Field(description="The VCF ID column")
    max_abs: float | None = Field(description="max |primary scorer| over the tracks")
    primary: float | None = Field(description="The signed primary score at that track")
    primary_spread: float | None = Field(
        description="Standard deviation of primary over the model's replicates (null: one)"
    )
    top_track: str
    top_gene: str
    top_gene_name: str
    top_gene_log_sed: float | None
    top_gene_log_sed_spread: float | None = Field(
        description="Standard deviation of top_gene_log_sed over the replicates (null: one)"
    )
    top_track_scores: dict[str, float | None] = Field(
        description="scorer → signed value at top_track, the row's one track (empty: a row "
        "stored before these were kept)"
    )
    scorer_max: dict[str, float | None] = Field(
        description="scorer → signed value at its own track of max |.|, named in scorer_track"
    )
    scorer_track: dict[str, str | None] = Field(
        description="scorer → the track of its scorer_max; scorers may peak on different tracks"
    )
    primary_pct: float | None = Field(
        description="Percentile (0-100) of |primary| among the model's background of random "
        "SNVs at a similar distance from a gene start, same track (null: no background)"
    )
    beyond_noise: bool | None = Field(
        description="|primary| is above the placement noise of its track (null: no background)"
    )
    top_track_pct: dict[str, float | None] = Field(
        description="scorer → percentile at top_track (empty: no background)"
    )
    scorer_pct: dict[str, float | None] = Field(
        description="scorer → percentile of its scorer_max, at its scorer_track"
    )


class EffectPage(PageInfo):
    job: UUID
    status: str = Field(description="The scoring job's status: rows appear as it finishes")
    items: list[EffectOut]
    empty_reason: str = Field(
        "", description="Why no effect matches the filters, when none does (else empty)"
    )


class NewDesignIn(Input):
    model: Name
    gene: Name = Field("", description="A gene name or id: the window is centred on its TSS")
    region: Name = Field("", description="Or 1-based chrom:start-end, e.g. II:1,000-2,000")
    name: Name = Field("", description="Defaults to the gene or the region")


class EditIn(Input):
    kind: EditKind
    position: Position
    end_position: Position | None = Field(
        None, description="Deletion and replacement: the last base, 1-based (inclusive)"
    )
    bases: Annotated[str, StringConstraints(max_length=2_000_000, pattern=NO_NUL)] = ""
    label: Name = ""


class EditOut(Schema):
    kind: str
    position: int = Field(
        description="1-based genome position of the first base (insertion: the base it goes before)"
    )
    end_position: int | None = Field(description="The last base, 1-based; none for insertions")
    bases: str
    label: str


class EditsIn(Input):
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        description="The version these edits build on; 409 if someone saved since"
    )
    edits: list[EditIn] = Field(min_length=1, max_length=1000)
    message: Annotated[str, StringConstraints(max_length=300, pattern=NO_NUL)] = ""


class DesignOut(Schema):
    code: UUID
    workspace: UUID
    name: str
    model: str
    genome: str
    locus: str = Field(description="The window, 1-based inclusive, e.g. II:1,001-2,000")
    chrom: str
    start: int = Field(description="The window's first base, 1-based (may be < 1 off the contig)")
    end: int = Field(description="The window's last base, 1-based")
    centred_on: str
    version: int
    edits: list[EditOut]


class PredictIn(Input):
    tracks: list[Name] = Field(
        [],
        max_length=100,
        description="Track identifiers (at most 12); empty: the model's default for a small model",
    )


class InterpretIn(Input):
    method: Literal["ism", "saliency", "attention"]
    model: Name
    gene: Name = Field("", description="Centre on its start (5′ end)")
    region: Name = Field("", description="Or 1-based coordinates, e.g. II:278,800-278,991")
    width: Annotated[int, Field(ge=1, le=MAX_ISM_BP)] = Field(
        FOCUSED_ISM_BP, description="ISM around a gene's start: bp"
    )
    objective: Literal["gene", "tracks"] = "gene"
    objective_gene: Name = Field("", description="Default: the gene above")
    tracks: list[Name] = Field([], max_length=1000)
    objective_region: Name = ""
    log: Literal["log", "linear"] = "log"
    reverse_complement: bool = True
    layer: Annotated[int, Field(ge=1, le=10_000)] | None = 1
    head: Annotated[int, Field(ge=1, le=10_000)] | None = None


class BundleIn(Input):
    report_top: Annotated[int, Field(ge=-(2**31), le=2**31)] = Field(
        50, description="Variants in the offline report (1-500)"
    )


class BundleOut(Schema):
    job: UUID = Field(description="The job the bundle packages")
    estimated_bytes: int = Field(description="Its files' size before compression")
    bundle: JobOut | None = Field(description="The newest bundle job, if one was asked for")
    download: ArtifactOut | None = Field(description="The zip, once the bundle job succeeded")


class EffectQuery(Schema):
    """The results table's filters and sort, as on the page."""

    page: PageNumber = 1
    sort: Literal["score", "percentile", "position", "gene", "track"] = "score"
    dir: Literal["desc", "asc"] = "desc"
    q: Name = Field(
        "",
        description="Search: a variant ID or rsID, an allele (II:278392 T>C, chrII:g.278392T>C), "
        "a 1-based position or region (II:270,000-290,000), a gene scored in the variant's window "
        "(name or id), or a contig. Contigs may be written as the genome's aliases (chrII).",
    )
    gene: Name = Field("", description="A gene scored in the variant's window (name or id)")
    region: Name = Field(
        "", description="A contig, or 1-based chrom:start-end; aliases such as chrII accepted"
    )
    kind: Literal["", "snv", "indel"] = ""
    min_abs: Annotated[float, Field(allow_inf_nan=False)] | None = Field(
        None, description="Only effects at least this strong (|score|)"
    )
    min_pct: Annotated[float, Field(ge=0, le=100)] | None = Field(
        None,
        description="Only effects at least at this percentile among the model's background of "
        "random SNVs (same track and scorer); effects scored without a background drop out",
    )
    scorer: Name = Field("", description="Rank by this scorer instead of the primary one")
    track: Name = Field("", description="Only effects whose top track contains this")
