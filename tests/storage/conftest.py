"""Results and uploads on object storage in tests: ``s3_bucket`` switches a test to a new
bucket of the loopback S3 server (tests/storage/s3.py says which server and why)."""

import pytest

from tests.storage.s3 import new_bucket, s3_server, s3_storages  # noqa: F401  (fixture)


@pytest.fixture
def s3_bucket(s3_server, settings):  # noqa: F811
    """Switch results and uploads to a new, empty bucket of the loopback server (as
    ``GW_STORAGE=s3`` does) and return it as a boto3 Bucket to look inside it."""
    bucket = new_bucket(s3_server)
    settings.STORAGES = s3_storages(s3_server, bucket.name)
    return bucket
