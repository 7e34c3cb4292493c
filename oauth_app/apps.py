from django.apps import AppConfig


class OauthAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "oauth_app"

    def ready(self) -> None:
        from mcprag_site.observability import redact_access_log

        from . import signals

        signals.connect()
        redact_access_log()  # credentials sent in URLs (magic links, reset links, misplaced tokens)
