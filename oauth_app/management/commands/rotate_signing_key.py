"""``python manage.py rotate_signing_key``: start signing access tokens with a new key."""

from django.core.management.base import BaseCommand
from oauth2_provider.settings import oauth2_settings

from oauth_app.keys import rotate


class Command(BaseCommand):
    help = (
        "Create a new signing key for access tokens and retire the current one. The retired key stays "
        "published at /.well-known/jwks.json until the tokens it signed have expired."
    )

    def handle(self, *args, **options):
        key = rotate()
        self.stdout.write(
            f"New signing key {key.kid} is active; previous keys stay published for "
            f"{oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS} s."
        )
