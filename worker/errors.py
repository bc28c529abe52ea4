"""Exceptions with a meaning for the job system."""


class JobInputError(Exception):
    """The user's input cannot be processed; the message is shown to them as the job's error."""


class JobCancelled(Exception):
    """A member asked to cancel the job while it ran."""
