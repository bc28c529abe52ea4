"""Results and uploads on object storage in tests: an S3 server on loopback, started by the run.

The server is moto's standalone server (``moto[server]`` from PyPI, ``ThreadedMotoServer``), not
MinIO: it is pure Python, so it installs with the other dev requirements and needs no Docker and
no downloaded binary, and it answers the S3 HTTP protocol on a real socket, so boto3 and
django-storages run their real client path (request signing, ranged GETs, multipart uploads and
downloads, 404s). moto's in-process ``mock_aws`` would patch botocore instead and test less.
"""

import os
import runpy
import uuid
from pathlib import Path

import pytest

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "genomeweb" / "settings.py"
CREDENTIALS = {"GW_S3_ACCESS_KEY_ID": "testing", "GW_S3_SECRET_ACCESS_KEY": "testing-secret"}


@pytest.fixture(scope="session")
def s3_server() -> str:
    """The loopback S3 server's URL, one for the whole run (each test gets its own bucket)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_storages(endpoint: str, bucket: str) -> dict:
    """``STORAGES`` as genomeweb/settings.py builds it for GW_STORAGE=s3 and these variables:
    the settings file itself is run, so the test uses the real switch."""
    environment = {
        "GW_STORAGE": "s3",
        "GW_S3_ENDPOINT_URL": endpoint,
        "GW_S3_BUCKET": bucket,
        "GW_S3_REGION": "us-east-1",
        **CREDENTIALS,
    }
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        return runpy.run_path(str(SETTINGS_FILE))["STORAGES"]
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def s3_bucket(s3_server, settings):
    """Switch results and uploads to a new, empty bucket of the loopback server (as
    ``GW_STORAGE=s3`` does) and return a boto3 Bucket to look inside it."""
    import boto3

    name = f"gw-{uuid.uuid4().hex[:16]}"
    resource = boto3.resource(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["GW_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["GW_S3_SECRET_ACCESS_KEY"],
    )
    bucket = resource.create_bucket(Bucket=name)
    settings.STORAGES = s3_storages(s3_server, name)
    return bucket
