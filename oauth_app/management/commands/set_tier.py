"""``python manage.py set_tier EMAIL TIER``: change a person's tier (takes effect on their next call)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from oauth_app.services import set_tier
from oauth_app.tiers import Tier


class Command(BaseCommand):
    help = "Set the tier (public, developer, admin) of the person with this email address or username."

    def add_arguments(self, parser):
        parser.add_argument("who", help="email address or username")
        parser.add_argument("tier", choices=[t for t in Tier.values if t != Tier.SERVICE])

    def handle(self, *args, **options):
        User = get_user_model()
        who = options["who"]
        users = list(User.objects.filter(email__iexact=who)) or list(User.objects.filter(username=who))
        if not users:
            raise CommandError(f"No account with email or username {who!r}.")
        if len(users) > 1:
            raise CommandError(f"{len(users)} accounts use {who!r}; give the username instead.")
        set_tier(users[0], options["tier"])
        self.stdout.write(f"{users[0].get_username()} is now {options['tier']}; it applies to their next tool call.")
