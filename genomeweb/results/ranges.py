"""HTTP Range support for result files (igv.js reads bigWig and tabix files by byte ranges).

Django's FileResponse ignores Range and sends whole files; this module answers 206 with the
requested slice, and 416 when the range cannot be satisfied.
"""

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class UnsatisfiableRange(ValueError):
    pass


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range asked for, or None to send the whole file.

    Multi-range requests and malformed headers are answered with the whole file (RFC 9110
    allows ignoring Range). Raises UnsatisfiableRange for a range wholly past the end.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix range: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise UnsatisfiableRange(header)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise UnsatisfiableRange(header)
    return ByteRange(start, end)
