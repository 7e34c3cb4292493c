"""``python manage.py create_account USERNAME [--email E] [--password P | --random-password] [--tier T]``

A new account gets ``--tier`` or else the tier the rules give a new person (``profiles.tier_for_new_person``); an existing one keeps its tier unless ``--tier`` is given.
"""

import secrets

from django.core.management.base import BaseCommand, CommandError

from oauth_app.scopes import tier_of
from oauth_app.services import create_or_update_account
from oauth_app.tiers import PERSON_TIERS, Tier


class Command(BaseCommand):
    help = ("Create (or update) a local account that can sign in to mcprag. A new account gets --tier "
            "(default: public); an existing account keeps its tier unless --tier is given.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--password", help="Password to set (visible in your shell history; prefer --random-password).")
        group.add_argument("--random-password", action="store_true", help="Generate a password and print it once.")
        parser.add_argument("--tier", choices=[t for t in Tier.values if t in PERSON_TIERS],
                            help="Tier to set. Default: the tier rules give a new account (from its email; public without a rule); an existing account keeps its tier.")

    def handle(self, *args, **options):
        password = options["password"]
        if options["random_password"]:
            password = secrets.token_urlsafe(12)
        try:
            user, created = create_or_update_account(
                options["username"], email=options["email"], password=password, tier=options["tier"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        verb = "Created" if created else "Updated"
        user.refresh_from_db()
        self.stdout.write(f"{verb} account {user.username!r} (tier {tier_of(user)}).")
        if options["random_password"]:
            self.stdout.write(f"Password: {password}")
