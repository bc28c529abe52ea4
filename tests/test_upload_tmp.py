"""Temporary upload files: in the app's own folder, gone after a finished upload, and removed by
the next web start and by the sweeper when a killed web process left them behind."""

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from genomeweb.api.models import ApiToken
from genomeweb.lib.upload_tmp import remove_stale_upload_temp_files
from tests.demo import free_port, is_up
from worker.tasks import sweep

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
BOUNDARY = "gw-test-boundary-7f3a"
DECLARED_VCF_BYTES = 50 * 1024 * 1024  # what the killed upload announces; it never sends it all
SENT_BEFORE_KILL = 1024 * 1024
VCF_HEADER = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def vcf_bytes(size: int) -> bytes:
    """A VCF body of exactly ``size`` bytes: the header, then SNV records."""
    records = b"".join(b"I\t%d\t.\tA\tG\t.\t.\t.\n" % pos for pos in range(1, size // 16 + 2))
    return (VCF_HEADER + records)[:size]


def age_seconds(path: Path) -> float:
    return time.time() - path.stat().st_mtime


def temp_uploads(folder: Path) -> list[Path]:
    return sorted(folder.glob("tmp*.upload*"))


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.1)


# --- The clean-up function on its own ------------------------------------------------------


def make_file(folder: Path, name: str, age: float) -> Path:
    path = folder / name
    path.write_bytes(b"partial upload")
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_it_removes_only_stale_temporary_uploads(tmp_path):
    stale = make_file(tmp_path, "tmpa1b2c3.upload.vcf", age=3600)
    fresh = make_file(tmp_path, "tmpd4e5f6.upload.vcf.gz", age=10)
    other = make_file(tmp_path, "notes.txt", age=3600)  # not Django's: never touched
    with override_settings(FILE_UPLOAD_TEMP_DIR=tmp_path, UPLOAD_TEMP_STALE_SECONDS=600):
        assert remove_stale_upload_temp_files() == 1
    assert not stale.exists()
    assert fresh.exists() and other.exists()


def test_it_leaves_folders_and_links_alone(tmp_path):
    folder = tmp_path / "tmpdir.upload"
    folder.mkdir()
    target = make_file(tmp_path, "kept.vcf", age=3600)
    link = tmp_path / "tmplink.upload.vcf"
    link.symlink_to(target)
    os.utime(link, (0, 0), follow_symlinks=False)
    with override_settings(FILE_UPLOAD_TEMP_DIR=tmp_path, UPLOAD_TEMP_STALE_SECONDS=1):
        assert remove_stale_upload_temp_files() == 0
    assert folder.is_dir() and link.is_symlink() and target.exists()


def test_uploads_go_to_the_apps_own_folder():
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    assert folder.is_dir()
    assert folder.is_relative_to(settings.VAR_DIR) or "GW_UPLOAD_TEMP_DIR" in os.environ


# --- A real gunicorn killed mid-upload ------------------------------------------------------


class WebServer:
    """gunicorn on the test database, one worker, in its own process group."""

    def __init__(self, temp_dir: Path, log: Path) -> None:
        self.temp_dir = temp_dir
        self.log = log
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self, *, stale_seconds: int) -> None:
        db = connection.settings_dict
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "GW_VAR_DIR": str(settings.VAR_DIR),
            "GW_UPLOAD_DIR": str(settings.UPLOAD_DIR),
            "GW_UPLOAD_TEMP_DIR": str(self.temp_dir),
            "GW_UPLOAD_TEMP_STALE_SECONDS": str(stale_seconds),
        }
        self.proc = subprocess.Popen(
            [GUNICORN, "genomeweb.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
            + ["--workers", "1", "--timeout", "300"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while not is_up(f"http://127.0.0.1:{self.port}/accounts/login/"):
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start within 120 s"
            time.sleep(0.3)

    def kill(self) -> None:
        """SIGKILL, master and worker at once: nothing gets to run its clean-up."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)


def multipart_head(genome: str, filename: str) -> bytes:
    field = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="genome"\r\n\r\n{genome}\r\n'
    file_head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="vcf"; filename="{filename}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    )
    return (field + file_head).encode()


def multipart_tail() -> bytes:
    return f"\r\n--{BOUNDARY}--\r\n".encode()


def send_upload_head(conn, workspace, secret: str, vcf_size: int) -> None:
    """Request line and headers of an upload of ``vcf_size`` VCF bytes, and the first parts."""
    head = multipart_head("mini", "big.vcf")
    conn.putrequest("POST", f"/api/v1/workspaces/{workspace.code}/variant-sets")
    conn.putheader("Authorization", f"Bearer {secret}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(len(head) + vcf_size + len(multipart_tail())))
    conn.endheaders()
    conn.send(head)


def kill_mid_upload(server: WebServer, workspace, secret: str) -> Path:
    """Start a large upload, SIGKILL gunicorn once part of it is on disk; the file left."""
    conn = server.connect()
    send_upload_head(conn, workspace, secret, DECLARED_VCF_BYTES)
    conn.send(vcf_bytes(SENT_BEFORE_KILL))
    wait_for(lambda: temp_uploads(server.temp_dir), 60, "the upload's temporary file")
    # The first megabyte is read and written while the rest has not been sent.
    wait_for(lambda: temp_uploads(server.temp_dir)[0].stat().st_size > 0, 60, "upload data")
    server.kill()
    conn.close()
    [left] = temp_uploads(server.temp_dir)
    return left


@pytest.fixture
def web_server(tmp_path):
    temp_dir = tmp_path / "upload-tmp"
    temp_dir.mkdir()
    server = WebServer(temp_dir, tmp_path / "gunicorn.log")
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.kill()


@pytest.fixture
def alice_secret(alice) -> str:
    return ApiToken.issue(alice, "upload test")[1]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_finished_upload_leaves_no_temporary_file(web_server, workspace, genome, alice_secret):
    web_server.start(stale_seconds=settings.UPLOAD_TEMP_STALE_SECONDS)
    vcf = vcf_bytes(3 * 1024 * 1024)
    conn = web_server.connect()
    send_upload_head(conn, workspace, alice_secret, len(vcf))
    conn.send(vcf + multipart_tail())
    response = conn.getresponse()
    assert response.status == 201, response.read()[:2000]
    stored = list((settings.UPLOAD_DIR / str(workspace.code)).glob("*.vcf"))
    assert [path.read_bytes() == vcf for path in stored] == [True]
    # Django deletes the file when the server closes the response, just after sending it.
    wait_for(lambda: not temp_uploads(web_server.temp_dir), 30, "the temporary file to go")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_next_web_start_removes_a_killed_uploads_file(
    web_server, workspace, genome, alice_secret
):
    web_server.start(stale_seconds=2)
    left = kill_mid_upload(web_server, workspace, alice_secret)
    assert 0 < left.stat().st_size < DECLARED_VCF_BYTES
    wait_for(lambda: age_seconds(left) > 2, 30, "the left file to be 2 s old")
    web_server.start(stale_seconds=2)
    assert not left.exists()
    assert temp_uploads(web_server.temp_dir) == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_sweeper_removes_a_killed_uploads_file_once_stale(
    web_server, workspace, genome, alice_secret
):
    web_server.start(stale_seconds=settings.UPLOAD_TEMP_STALE_SECONDS)
    left = kill_mid_upload(web_server, workspace, alice_secret)
    with override_settings(FILE_UPLOAD_TEMP_DIR=web_server.temp_dir):
        sweep()  # recent, as a live upload's file is: kept
        assert left.exists()
        wait_for(lambda: age_seconds(left) > 1, 30, "the left file to be 1 s old")
        with override_settings(UPLOAD_TEMP_STALE_SECONDS=1):
            sweep()
    assert not left.exists()
