"""Exceptions with a meaning for the job system (an unusable input is engine.errors.InputError)."""


class JobCancelled(Exception):
    """A member asked to cancel the job while it ran."""
