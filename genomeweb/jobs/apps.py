from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "genomeweb.jobs"
