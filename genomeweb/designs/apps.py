from django.apps import AppConfig


class DesignsConfig(AppConfig):
    name = "genomeweb.designs"
