from django.apps import AppConfig


class McpGatewayConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mcp_gateway"

    def ready(self) -> None:
        from .auth.row_cache import connect_local_changes  # imports models: only once the apps are loaded

        connect_local_changes()
