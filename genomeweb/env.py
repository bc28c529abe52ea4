"""Typed readers for environment variables; bad values fail loudly at start-up."""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    raw = os.getenv(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def envint(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.getenv(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


def envsecret(name: str, *, fallback_file: Path) -> str:
    """A secret from the environment, else one generated once and kept in ``fallback_file``.

    The file fallback keeps a single-machine install safe without any set-up: the key is random
    and private to this installation, and it survives restarts so sessions stay valid.
    """
    value = os.getenv(name, "")
    if value:
        return value
    if fallback_file.exists():
        return fallback_file.read_text().strip()
    fallback_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    fd = os.open(fallback_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
