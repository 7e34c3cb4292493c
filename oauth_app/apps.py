from django.apps import AppConfig


class OauthAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "oauth_app"

    def ready(self) -> None:
        from . import signals

        signals.connect()
