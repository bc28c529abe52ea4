"""The demo's igv.js and bundle walks again with results and uploads in a bucket of the loopback
S3 server (tests/storage/s3.py): igv.js reads the predicted bigWigs by byte ranges that the web
answers with ranged GETs on the bucket, and the bundle is downloaded from it."""

import pytest

from tests.browser.test_demo import scoring_walk
from tests.browser.test_demo import (
    test_a_demo_bundle_opens_in_the_usual_tools_and_its_report_offline as bundle_walk,
)
from tests.demo import running_demo
from tests.storage.s3 import new_bucket, s3_environment, s3_server  # noqa: F401  (fixture)


@pytest.fixture
def bucket(s3_server):  # noqa: F811
    return new_bucket(s3_server)


@pytest.fixture
def demo_site(tmp_path, s3_server, bucket):  # noqa: F811
    """tests/demo.py's demo, its web and worker using ``bucket``."""
    with running_demo(tmp_path, s3_environment(s3_server, bucket.name)) as site:
        yield site


def keys(bucket, prefix: str) -> list[str]:
    return [item.key for item in bucket.objects.filter(Prefix=prefix)]


@pytest.mark.slow
@pytest.mark.browser
def test_igv_reads_the_predicted_tracks_from_the_bucket(demo_site, browser_page, bucket):
    scoring_walk(demo_site, browser_page, timed_against_estimate=False)
    assert keys(bucket, "uploads/"), "the upload is not in the bucket"
    assert any(key.endswith(".bw") for key in keys(bucket, "results/"))
    _, log = demo_site
    ranged = [line for line in log.read_text().splitlines() if '"GET /files/' in line]
    assert any(" 206 " in line for line in ranged), "igv.js made no range request"


@pytest.mark.slow
@pytest.mark.browser
def test_the_bundle_is_downloaded_from_the_bucket(demo_site, browser_page, bucket, tmp_path):
    bundle_walk(demo_site, browser_page, tmp_path)
    assert any(key.endswith(".zip") for key in keys(bucket, "results/"))
