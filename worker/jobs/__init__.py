"""Job handlers: the worker modules that read and write Django models, one per family of job
kinds. ``worker/tasks.py`` claims a job and calls its handler; ``finishing.finish_job`` is where
every job succeeds."""
