from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "genomeweb.api"
    label = "api"
