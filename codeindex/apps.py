from django.apps import AppConfig


class CodeindexConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "codeindex"
