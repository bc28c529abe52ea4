"""Shared fixtures: users with every role, a workspace, the tiny real genome."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from genomeweb.catalog.loading import load_genome
from genomeweb.catalog.models import Genome
from genomeweb.workspaces.models import Membership, Role, Workspace
from tests.demo import demo_site  # noqa: F401  (fixture)
from tests.scoring import scored, validated_set  # noqa: F401  (fixtures)

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


def make_tiny_yeast(directory, seed: int = 0):
    """A randomly initialised, tiny YeastNet checkpoint (1,024 bp in, 24 bins of 32 bp out)
    whose output responds to single-base changes, saved in ``directory``."""
    import torch

    from engine.models.yeast_net import YeastNet, YeastNetConfig
    from engine.training.train import save_checkpoint

    torch.manual_seed(seed)
    config = YeastNetConfig(
        sequence_length=1024,
        crop_bp=128,
        stem_channels=8,
        tower_channels=(8, 8, 8, 8, 16, 16),
        transformer_layers=2,
        heads=2,
        unet_channels=8,
        dropout=0.0,
    )
    model = YeastNet(config)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):  # statistics as after training
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
            elif isinstance(module, torch.nn.Conv1d | torch.nn.Linear):
                # Default init leaves the output nearly blind to the sequence (a whole other
                # sequence moves no bin by 3e-5); doubled, an SNV moves bins by ~0.02, so
                # 1e-5 comparisons can tell a right alternative from a wrong one.
                module.weight.mul_(2)
    save_checkpoint(model.eval(), directory, {"note": "test fixture"})
    return directory


@pytest.fixture
def tiny_yeast_dir(tmp_path):
    """The tiny random YeastNet of ``make_tiny_yeast`` (seed 0)."""
    return make_tiny_yeast(tmp_path / "tiny-yeast")


@pytest.fixture
def tiny_model(genome, tiny_yeast_dir):
    """The tiny random YeastNet registered as model ``tiny`` on the mini genome."""
    import io

    from django.core.management import call_command

    from genomeweb.catalog.models import Predictor

    call_command(
        "register_model",
        "tiny",
        architecture="yeast",
        weights=[tiny_yeast_dir],
        genome="mini",
        stdout=io.StringIO(),
    )
    return Predictor.objects.get(name="tiny")


@pytest.fixture
def no_broker():
    """Jobs are sent nowhere (tests run them with ``tasks.run_job.apply``)."""
    from unittest import mock

    with mock.patch("genomeweb.jobs.enqueue.app.send_task", autospec=True):
        yield


@pytest.fixture
def offline_page():
    """A Chromium page with the network off (see ``open_offline_page``)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield open_offline_page(browser)
        browser.close()


def open_offline_page(browser):
    """A page of ``browser`` in a context with the network off: requests for anything but
    file: and data: URLs are aborted and recorded in ``page.outside_requests``, file: ones in
    ``page.file_requests``; script errors in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = context.new_page()
    page.outside_requests, page.file_requests, page.errors = [], [], []

    def guard(route):
        url = route.request.url
        if url.startswith("file:"):
            page.file_requests.append(url)
            route.continue_()
        elif url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            page.outside_requests.append(url)
            route.abort()

    page.route("**/*", guard)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page
