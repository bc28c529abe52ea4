"""The Celery application. Task bodies live in worker/tasks.py; the web only sends by name."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genomeweb.settings")

app = Celery("genomeweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
