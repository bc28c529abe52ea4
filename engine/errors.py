"""The one exception the engine raises for a user's input."""


class InputError(Exception):
    """The input cannot be processed; the message says why, in words the user can act on (the
    worker shows it as the job's error, a command as its error)."""
