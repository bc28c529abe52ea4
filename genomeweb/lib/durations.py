"""Durations as a person says them: the one format for every time the app shows (an estimate
before launch, the time a job has run, the time it has left)."""

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def duration_text(seconds: float) -> str:
    """``"0.4 s"``, ``"42 s"``, ``"2 min 5 s"``, ``"3 h 2 min"``, ``"2 d 5 h"``: the two largest
    units, so a long job does not read as a precise count of seconds."""
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < MINUTE:
        return f"{whole} s"
    if whole < HOUR:
        return f"{whole // MINUTE} min {whole % MINUTE} s"
    if whole < DAY:
        return f"{whole // HOUR} h {whole % HOUR // MINUTE} min"
    return f"{whole // DAY} d {whole % DAY // HOUR} h"
