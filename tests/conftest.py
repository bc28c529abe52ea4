"""Shared fixtures: users with every role, a workspace, the tiny real genome."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from genomeweb.catalog.loading import load_genome
from genomeweb.catalog.models import Genome
from genomeweb.workspaces.models import Membership, Role, Workspace

DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery staple"


def make_user(username: str) -> User:
    return User.objects.create_user(username, f"{username}@example.org", PASSWORD)


@pytest.fixture
def alice(db) -> User:
    """Owner of ``workspace``."""
    return make_user("alice")


@pytest.fixture
def eddie(db) -> User:
    """Editor in ``workspace``."""
    return make_user("eddie")


@pytest.fixture
def victor(db) -> User:
    """Viewer in ``workspace``."""
    return make_user("victor")


@pytest.fixture
def bob(db) -> User:
    """Outsider: a user in no shared workspace."""
    return make_user("bob")


@pytest.fixture
def workspace(alice, eddie, victor) -> Workspace:
    workspace = Workspace.objects.create(name="Yeast lab", created_by=alice)
    Membership.objects.create(workspace=workspace, user=alice, role=Role.OWNER)
    Membership.objects.create(workspace=workspace, user=eddie, role=Role.EDITOR)
    Membership.objects.create(workspace=workspace, user=victor, role=Role.VIEWER)
    return workspace


@pytest.fixture
def genome(db) -> Genome:
    return load_genome("mini", DATA / "mini.fa.gz", DATA / "mini.gff3", species="S. cerevisiae")


@pytest.fixture
def as_user(client):
    """``as_user(user)`` logs the test client in as ``user`` and returns the client."""

    def login(user: User):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def variant_set(workspace, genome, alice):
    """A validated variant set with its job and one result file, as the worker leaves them."""
    from django.conf import settings

    from genomeweb.jobs.models import Job, JobKind, JobStatus
    from genomeweb.results.storage import job_dir, record_artifact
    from genomeweb.variants.models import Variant, VariantSet

    job = Job.objects.create(
        workspace=workspace,
        created_by=alice,
        kind=JobKind.VALIDATE_VCF,
        status=JobStatus.SUCCEEDED,
        attempts=1,
    )
    upload = settings.UPLOAD_DIR / f"{workspace.code}/fixture.vcf"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    variant_set = VariantSet.objects.create(
        workspace=workspace,
        genome=genome,
        name="fixture",
        original_filename="fixture.vcf",
        stored_name=f"{workspace.code}/fixture.vcf",
        size=upload.stat().st_size,
        created_by=alice,
        validation_job=job,
        accepted=1,
    )
    Variant.objects.create(
        variant_set=variant_set, index=0, chrom="I", start=99, ref="A", alt="G", line=3
    )
    issues = job_dir(job) / "issues.tsv"
    issues.write_text("line\tstatus\treason\tdetail\ttext\n" + "x" * 1000 + "\n")
    record_artifact(job, issues, content_type="text/tab-separated-values")
    return variant_set
