"""The compute side: Celery tasks and the model engine. May import genomeweb, never the reverse."""
