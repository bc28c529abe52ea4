"""Exceptions with a meaning for the job system (an unusable input is engine.errors.InputError)."""

import psycopg
from django.db import InterfaceError, OperationalError

# The database went away (stopped, restarted, unreachable). Django wraps what the ORM raises;
# psycopg's own errors come from raw connections (intake's COPY).
DATABASE_ERRORS = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


class JobCancelled(Exception):
    """A member asked to cancel the job while it ran."""
