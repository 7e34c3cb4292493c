"""``python manage.py rollup_audit [--rebuild]``"""

from django.core.management.base import BaseCommand

from console import rollups


class Command(BaseCommand):
    help = ("Fold the tool calls of every closed hour into the overview's hourly rollups (Celery beat does it every "
            "five minutes and the overview before each read); --rebuild drops them and starts over.")

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Drop every rollup and roll the whole audit trail up again.")

    def handle(self, *args, **options):
        until = rollups.rebuild() if options["rebuild"] else rollups.refresh()
        if until is None:
            self.stdout.write("No tool calls to roll up yet.")
        else:
            self.stdout.write(f"Tool calls before {until:%Y-%m-%d %H:%M} UTC are rolled up.")
