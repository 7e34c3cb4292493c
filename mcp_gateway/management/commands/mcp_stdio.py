"""``python manage.py mcp_stdio --client NAME``: serve MCP on stdin/stdout as a service client.

For agents that only speak stdio and run next to the server (CI jobs, local tools). Example
client configuration::

    {"mcpServers": {"mcprag": {"command": "python", "args": ["manage.py", "mcp_stdio", "--client", "ci"],
                               "cwd": "/srv/mcprag"}}}
"""

from django.core.management.base import BaseCommand, CommandError

from mcp_gateway.transports.stdio import ServiceClientUnavailable, caller_for_service_client, serve


class Command(BaseCommand):
    help = (
        "Serve the MCP tools on stdin/stdout as the named service client (its allowed scopes, tier "
        "'service'). Only JSON-RPC is written to stdout; logs go to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, metavar="NAME",
                            help="The service client's name (or client_id), as created by create_service_client.")

    def handle(self, *args, **options):
        try:
            caller = caller_for_service_client(options["client"])
        except ServiceClientUnavailable as exc:
            raise CommandError(str(exc)) from None
        serve(caller)
