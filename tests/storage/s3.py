"""An S3 server on loopback for the tests, started by the run, and the settings that use it.

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
REGION = "us-east-1"
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


def s3_environment(endpoint: str, bucket: str) -> dict:
    """The variables that point genomeweb at ``bucket`` of the server at ``endpoint``."""
    return {
        "GW_STORAGE": "s3",
        "GW_S3_ENDPOINT_URL": endpoint,
        "GW_S3_BUCKET": bucket,
        "GW_S3_REGION": REGION,
        **CREDENTIALS,
    }


def new_bucket(endpoint: str):
    """A new, empty bucket of the server, as a boto3 Bucket to look inside it."""
    import boto3

    resource = boto3.resource(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["GW_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["GW_S3_SECRET_ACCESS_KEY"],
    )
    return resource.create_bucket(Bucket=f"gw-{uuid.uuid4().hex[:16]}")


def s3_storages(endpoint: str, bucket: str) -> dict:
    """``STORAGES`` as genomeweb/settings.py builds it for GW_STORAGE=s3 and these variables:
    the settings file itself is run, so the test uses the real switch."""
    environment = s3_environment(endpoint, bucket)
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
