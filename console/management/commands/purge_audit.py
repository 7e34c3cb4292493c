"""``python manage.py purge_audit [--days N] [--dry-run]``"""

from django.core.management.base import BaseCommand, CommandError

from console.retention import purge_audit


class Command(BaseCommand):
    help = "Delete tool-call and auth-event audit rows older than MCPRAG_AUDIT_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Keep this many days instead of the setting.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, **options):
        try:
            report = purge_audit(days=options["days"], dry_run=options["dry_run"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.stdout.write(f"{verb} {report.tool_calls} tool call(s) and {report.auth_events} auth event(s) "
                          f"older than {report.cutoff:%Y-%m-%d %H:%M} UTC.")
