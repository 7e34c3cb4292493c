from django.apps import AppConfig

from mcprag_site.observability import redact_access_log


class OauthAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "oauth_app"

    def ready(self) -> None:
        # Here, not at the top: signals imports models, which exist only once the apps are loaded.
        from . import signals

        signals.connect()
        redact_access_log()  # credentials sent in URLs (magic links, reset links, misplaced tokens)
