from django.apps import AppConfig


class WorkerConfig(AppConfig):
    """Makes the worker's management commands (predict_tracks, register_model, ...) reachable
    through manage.py. Importing this module loads nothing heavy: torch is imported only by the
    commands and tasks that need it."""

    name = "worker"
    label = "worker"
