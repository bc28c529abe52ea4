"""Why a job failed, in words its user can act on, and how its worker process died.

An exception that escapes a job's handler is either a known condition of the machine (a full,
read-only or forbidden results storage; memory) that the user should hear about in plain
words, or a bug, which gets a reference for the administrator and the worker log.
"""

import errno
import re
from dataclasses import dataclass
from pathlib import Path

from genomeweb.jobs.models import FailureReason

NOTHING_STORED = "Nothing was stored; run the job again once this is fixed."


@dataclass(frozen=True)
class Failure:
    message: str  # for the user
    reason: str  # a FailureReason, for the administrator
    detail: str  # the technical cause, for the administrator


STORAGE_ERRORS = {
    errno.ENOSPC: (
        FailureReason.STORAGE_FULL,
        "The results storage is full; an administrator must free space.",
    ),
    errno.EDQUOT: (
        FailureReason.STORAGE_QUOTA,
        "The results storage quota is used up; an administrator must free space or raise it.",
    ),
    errno.EROFS: (
        FailureReason.STORAGE_READ_ONLY,
        "The results storage is read-only; an administrator must make it writable.",
    ),
    errno.EACCES: (
        FailureReason.STORAGE_PERMISSION,
        "The worker may not write to the results storage; an administrator must fix its "
        "permissions.",
    ),
    errno.EPERM: (
        FailureReason.STORAGE_PERMISSION,
        "The worker may not write to the results storage; an administrator must fix its "
        "permissions.",
    ),
}

# torch's allocators raise RuntimeError, not MemoryError, when the host runs out.
CPU_ALLOCATION = re.compile(r"DefaultCPUAllocator: (can't|not enough memory)", re.IGNORECASE)


def classify(error: BaseException) -> Failure | None:
    """A Failure for a known condition of the machine, or None for anything else (a bug)."""
    detail = f"{type(error).__name__}: {error}"
    if isinstance(error, OSError) and error.errno in STORAGE_ERRORS:
        reason, message = STORAGE_ERRORS[error.errno]
        where = f" ({Path(error.filename).name})" if error.filename else ""
        return Failure(f"{message} {NOTHING_STORED}", reason, detail + where)
    if isinstance(error, MemoryError) or CPU_ALLOCATION.search(str(error)):
        return Failure(
            "The worker ran out of memory during this job. Score fewer tracks or a smaller "
            "set, or ask an administrator for a worker with more memory. " + NOTHING_STORED,
            FailureReason.OUT_OF_MEMORY,
            detail,
        )
    return None


def oom_kills() -> int:
    """How many processes the kernel's out-of-memory killer has killed since boot (any
    cgroup's), or -1 where the kernel does not say."""
    try:
        for line in Path("/proc/vmstat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                return int(value)
    except OSError:
        pass
    return -1


def killed_for_memory(how: str, kills_before: int) -> bool:
    """Whether a pool process that died as ``how`` (billiard's "signal 9 (SIGKILL)") was most
    likely the kernel's out-of-memory victim: killed by SIGKILL while the kernel counted a
    new out-of-memory kill."""
    return "SIGKILL" in how and kills_before >= 0 and oom_kills() > kills_before
