"""``python manage.py create_service_client NAME --scopes "code:read index:admin"``

Scopes: ``code:read``, ``code:write``, ``index:admin`` (for its tokens at ``/mcp``),
``console:admin`` (for its tokens at the operator API, ``/api/``: ask with
``resource=<MCPRAG_PUBLIC_URL>/api``) and ``token:introspect`` (RFC 7662 introspection at ``/introspect/``).
"""

from django.core.management.base import BaseCommand, CommandError

from oauth_app.services import create_service_client


class Command(BaseCommand):
    help = (
        "Create a confidential OAuth client for the client-credentials grant (service tier), e.g. for CI. "
        "The secret is printed once and stored hashed."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--scopes", required=True, help='Space-separated, e.g. "code:read index:admin"; "console:admin" allows the operator API (/api/); '
                                                        '"token:introspect" allows /introspect/.')

    def handle(self, *args, **options):
        try:
            app, secret = create_service_client(options["name"], options["scopes"].split())
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Service client {app.name!r} created with scopes: {app.allowed_scopes}")
        self.stdout.write(f"client_id:     {app.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write("Store the secret now: it is not shown again.")
