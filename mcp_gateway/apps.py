from django.apps import AppConfig


class McpGatewayConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mcp_gateway"

    def ready(self) -> None:
        from .db.row_cache import connect_local_changes

        connect_local_changes()
