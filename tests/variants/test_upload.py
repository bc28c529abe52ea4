from unittest import mock

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from genomeweb.jobs.models import Job, JobStatus
from genomeweb.variants.models import VariantSet
from genomeweb.variants.submit import display_name

VCF = (
    b"##fileformat=VCFv4.2\n"
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    b"I\t100\t.\tA\tG\t.\t.\t.\n"
)


@pytest.fixture
def sent():
    with mock.patch("genomeweb.jobs.enqueue.app.send_task", autospec=True) as send_task:
        yield send_task


def upload(client, workspace, genome, *, name="../../etc/passwd.vcf", content=VCF, submission=None):
    form = {
        "genome": genome.pk,
        "name": "",
        "vcf": SimpleUploadedFile(name, content),
        "submission": submission or "6f0a5a9e-4b6b-4a47-9a59-3a8b3f1f6c11",
    }
    url = reverse("gw-variantset-upload", kwargs={"code": workspace.code})
    return client.post(url, form)


def test_an_upload_is_stored_under_a_generated_name_and_queued(
    as_user, eddie, workspace, genome, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(as_user(eddie), workspace, genome)
    variant_set = VariantSet.objects.get()
    assert response.status_code == 302
    assert variant_set.original_filename == "passwd.vcf"  # no path survives
    assert variant_set.upload_path.parent == settings.UPLOAD_DIR / str(workspace.code)
    assert variant_set.upload_path.read_bytes() == VCF
    assert variant_set.validation_job.status == JobStatus.QUEUED
    sent.assert_called_once_with(
        "worker.run_job", args=[variant_set.validation_job.pk], queue="gpu"
    )


def test_a_double_submission_creates_one_job(as_user, eddie, workspace, genome, sent):
    client = as_user(eddie)
    first = upload(client, workspace, genome)
    second = upload(client, workspace, genome)
    assert first["Location"] == second["Location"]
    assert VariantSet.objects.count() == 1 and Job.objects.count() == 1


def test_a_file_that_is_not_a_vcf_is_refused(as_user, eddie, workspace, genome, sent):
    response = upload(as_user(eddie), workspace, genome, name="notes.docx")
    assert response.status_code == 400
    assert "does not look like a VCF" in response.content.decode()
    assert not VariantSet.objects.exists()


@override_settings(MAX_UPLOAD_BYTES=2**20)
def test_an_oversize_upload_is_refused_with_the_limit(as_user, eddie, workspace, genome, sent):
    response = upload(as_user(eddie), workspace, genome, content=VCF + b"#" * (2**20 + 1))
    assert response.status_code == 400
    assert "larger than the 1 MB upload limit" in response.content.decode()
    assert not VariantSet.objects.exists()
    assert not any(settings.UPLOAD_DIR.glob(f"{workspace.code}/*"))


def test_viewers_cannot_upload(as_user, victor, workspace, genome, sent):
    response = upload(as_user(victor), workspace, genome)
    assert response.status_code == 403
    assert not VariantSet.objects.exists()


@pytest.mark.parametrize(
    "given, shown",
    [
        ("my variants.vcf", "my_variants.vcf"),
        ("C:\\Users\\me\\calls.vcf.gz", "calls.vcf.gz"),
        ("<script>alert(1)</script>.vcf", "script.vcf"),
        ("..", "upload.vcf"),
    ],
)
def test_display_names_are_harmless(given, shown):
    assert display_name(given) == shown
