"""Where job outputs and uploads live, and how they are recorded.

Two storages (``settings.STORAGES``): "results" and "uploads". On the filesystem, the default,
they are ``GW_RESULTS_DIR`` and ``GW_UPLOAD_DIR`` themselves: a worker's job folder is the result
and nothing is copied. On object storage (``GW_STORAGE=s3``) those folders are each host's
scratch and cache, and no disk is shared: a worker still computes in its local job folder,
``record_artifact`` (the point where a file becomes part of a result) uploads the finished file
under the same key, ``<job code>/<name>``, and a host that needs a local file (numpy's mmap, the
bundle's zip writer, a validation reading the upload) fetches a copy (``local_copy``,
``upload_file``). The web streams downloads from the store itself (``open_stored``).
"""

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

from engine.io.files import sha256_file
from genomeweb.jobs.models import Job

logger = logging.getLogger(__name__)

CHUNK = 256 * 1024
# Copies fetched from object storage, one folder per content (sha256): a copy is right by its
# name, so a file a retried job replaced under the same key is never read stale.
FETCHED = ".fetched"


class SettingDirStorage(FileSystemStorage):
    """A FileSystemStorage rooted at the folder a setting names, read at each use (so tests
    that point ``RESULTS_DIR`` elsewhere move the storage with it)."""

    def __init__(self, setting: str, **kwargs):
        self.setting = setting
        super().__init__(**kwargs)

    @property
    def base_location(self) -> str:
        return str(getattr(settings, self.setting))

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def result_files() -> Storage:
    return storages["results"]


def upload_files() -> Storage:
    return storages["uploads"]


def _is_folder(storage: Storage, folder: Path) -> bool:
    """Whether ``storage`` is ``folder`` itself: then files are already where they belong."""
    return isinstance(storage, FileSystemStorage) and Path(storage.location) == Path(folder)


def results_are_local() -> bool:
    return _is_folder(result_files(), settings.RESULTS_DIR)


def job_dir(job: Job) -> Path:
    """``GW_RESULTS_DIR/<job code>/``, created on first use: where a job writes its files."""
    path = settings.RESULTS_DIR / str(job.code)
    path.mkdir(parents=True, exist_ok=True)
    return path


def record_artifact(job: Job, path: Path, *, content_type: str, description: str = ""):
    """Create or refresh the Artifact row for a finished file inside the job's folder; on
    object storage, upload the file first, under its path relative to ``GW_RESULTS_DIR``."""
    from genomeweb.results.models import Artifact

    relative = path.resolve().relative_to(settings.RESULTS_DIR).as_posix()
    # Temp files are created 0600; nginx (another uid) serves results behind X-Accel-Redirect.
    path.chmod(0o644)
    if not results_are_local():
        _upload(result_files(), relative, path)
    artifact, _ = Artifact.objects.update_or_create(
        job=job,
        name=path.name,
        defaults={
            "relative_path": relative,
            "content_type": content_type,
            "description": description,
            "size": path.stat().st_size,
            "sha256": sha256_file(path),
        },
    )
    return artifact


def local_path(artifact) -> Path:
    """Where ``local_copy`` puts the artifact's file on this host, without reading anything."""
    if results_are_local():
        return settings.RESULTS_DIR / artifact.relative_path
    return settings.RESULTS_DIR / FETCHED / artifact.sha256 / Path(artifact.relative_path).name


def local_copy(artifact) -> Path:
    """A local file with the artifact's contents: the file itself on the filesystem, a copy
    fetched once per content from object storage. A path that does not exist when the file is
    gone from the storage, as for a file gone from the results folder."""
    path = local_path(artifact)
    if results_are_local() or path.is_file():
        return path
    _fetch(result_files(), artifact.relative_path, path)
    return path


def open_stored(key: str, first: int | None = None, last: int | None = None):
    """Bytes ``first``..``last`` (inclusive; all when None) of a result file in object storage,
    read by one (ranged) GET: ``(chunks, length)``. FileNotFoundError when it is not there."""
    kwargs = {} if first is None else {"Range": f"bytes={first}-{last}"}
    try:
        response = _object(result_files(), key).get(**kwargs)
    except Exception as error:
        if _is_missing(error):
            raise FileNotFoundError(key) from error
        raise
    return _chunks(response["Body"]), response["ContentLength"]


def _chunks(body) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def discard_unrecorded_files(job: Job) -> None:
    """Remove what a failed job's attempts left in its folder without recording (partial
    exports, checkpoints): only an Artifact row makes a file part of a result. Best effort: a
    failure must still be recorded when the storage cannot even be listed. (On object storage
    only recorded files were ever uploaded: this clears the local scratch folder.)"""
    from genomeweb.results.models import Artifact

    folder = settings.RESULTS_DIR / str(job.code)
    if not folder.is_dir():
        return
    recorded = {
        settings.RESULTS_DIR / relative
        for relative in Artifact.objects.filter(job=job).values_list("relative_path", flat=True)
    }
    try:
        for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            elif path not in recorded:
                path.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
    except OSError:
        logger.warning("could not clear the files of failed job %s", job.code, exc_info=True)


# ---- uploads: written by the web under GW_UPLOAD_DIR, read by a worker on any host ----


def keep_upload(stored_name: str) -> None:
    """Put the upload written at ``GW_UPLOAD_DIR/<stored_name>`` into the uploads storage
    (nothing to do on the filesystem)."""
    storage = upload_files()
    if not _is_folder(storage, settings.UPLOAD_DIR):
        _upload(storage, stored_name, settings.UPLOAD_DIR / stored_name)


def discard_upload(stored_name: str) -> None:
    (settings.UPLOAD_DIR / stored_name).unlink(missing_ok=True)
    storage = upload_files()
    if not _is_folder(storage, settings.UPLOAD_DIR):
        storage.delete(stored_name)


def upload_file(variant_set) -> Path:
    """The variant set's upload as a local file, fetched from object storage if this host does
    not have it (uploads never change: their names are new for each one). Does not exist when
    the upload is gone."""
    path = settings.UPLOAD_DIR / variant_set.stored_name
    storage = upload_files()
    if not path.is_file() and not _is_folder(storage, settings.UPLOAD_DIR):
        _fetch(storage, variant_set.stored_name, path)
    return path


def upload_size(variant_set) -> int | None:
    """Bytes of the stored upload, None when it is gone."""
    try:
        return upload_files().size(variant_set.stored_name)
    except Exception as error:
        if isinstance(error, OSError) or _is_missing(error):
            return None
        raise


# ---- object storage ----


def _upload(storage: Storage, key: str, path: Path) -> None:
    with path.open("rb") as handle:
        saved = storage.save(key, File(handle, name=key))
    if saved != key:  # S3Storage overwrites (file_overwrite); anything else would lose the key
        raise RuntimeError(f"the storage saved {key} as {saved}")


def _fetch(storage: Storage, key: str, path: Path) -> None:
    """Download ``key`` to ``path`` through a temporary file beside it, so a reader never sees
    half a file. Leaves ``path`` absent when the key is not in the storage."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with partial.open("wb") as out:
            try:
                _object(storage, key).download_fileobj(out)
            except Exception as error:
                if _is_missing(error):
                    logger.warning("%s is not in the %s storage", key, storage)
                    return
                raise
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _object(storage: Storage, key: str):
    """The boto3 Object of ``key`` in an S3Storage: ranged GETs and downloads to a file, which
    the storage's File API would buffer whole first."""
    from storages.utils import clean_name

    return storage.bucket.Object(storage._normalize_name(clean_name(key)))


def _is_missing(error: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return False
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")
