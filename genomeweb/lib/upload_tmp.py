"""Temporary upload files a killed web process left behind, removed once they are stale.

Django streams every upload into a temporary file in ``FILE_UPLOAD_TEMP_DIR``
(``GW_UPLOAD_TEMP_DIR``) and deletes it when the request ends; a web process killed mid-upload
(SIGKILL, OOM, a power cut) never gets there, and the partial file stays. A web worker's start
(``warmup.py``) and the periodic sweeper (``worker.tasks.sweep``) remove such files.

Stale means untouched for ``GW_UPLOAD_TEMP_STALE_SECONDS``. That is enough to spare the files
of uploads still in progress, without asking which process holds them open: a live upload
writes its file as the body streams in (every 64 KiB chunk moves its modification time), and
gunicorn kills a request that stalls for longer than its worker timeout (minutes), so a live
upload's file is never hours old. Looking for open file handles would not work anyway where
the sweeper runs in another container than the web server.
"""

import logging
import stat
import time
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

# Django's TemporaryUploadedFile names its files tmp<random>.upload[.<extension>]; nothing else
# is touched, in case GW_UPLOAD_TEMP_DIR is pointed at a folder other programs use.
DJANGO_TEMP_UPLOAD_PATTERN = "tmp*.upload*"


def remove_stale_upload_temp_files() -> int:
    """Delete temporary upload files untouched for ``UPLOAD_TEMP_STALE_SECONDS``.

    Returns:
        How many files were deleted.
    """
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    oldest_kept = time.time() - settings.UPLOAD_TEMP_STALE_SECONDS
    removed = 0
    for path in folder.glob(DJANGO_TEMP_UPLOAD_PATTERN):
        if _is_stale(path, oldest_kept):
            path.unlink(missing_ok=True)  # another web worker's start may have got there first
            removed += 1
    if removed:
        logger.info("removed %d stale temporary upload file(s) from %s", removed, folder)
    return removed


def _is_stale(path: Path, oldest_kept: float) -> bool:
    try:
        status = path.lstat()
    except FileNotFoundError:  # deleted meanwhile by the request that owned it
        return False
    return stat.S_ISREG(status.st_mode) and status.st_mtime < oldest_kept
