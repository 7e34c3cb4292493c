"""PostgreSQL only: a notification on channel ``mcprag_bearer`` whenever something the bearer check
reads changes, so each gateway process can keep token rows in memory and drop them at once
(:mod:`mcp_gateway.db.row_cache`).

Statement-level ``AFTER`` triggers call ``pg_notify('mcprag_bearer', <table name>)`` on:

- the access-token table: ``UPDATE``, ``DELETE``, ``TRUNCATE`` (revocation, expiry edits, cleanup;
  a new token is never in a cache, so ``INSERT`` needs nothing);
- the application, user, profile, group and group-membership tables: any write (client disabled,
  person deactivated, tier or groups changed).

PostgreSQL delivers a notification when, and only if, the writing transaction commits
(https://www.postgresql.org/docs/current/sql-notify.html). On other backends this migration does
nothing; the gateway reads the database on every call there.
"""

from django.conf import settings
from django.db import migrations
from oauth2_provider.settings import oauth2_settings

CHANNEL = "mcprag_bearer"
FUNCTION = "mcprag_bearer_changed"


def _tables(apps):
    """(table, events) pairs: the access-token table, then everything joined to it by the lookup."""
    token = apps.get_model(*oauth2_settings.ACCESS_TOKEN_MODEL.split("."))
    application = apps.get_model(*oauth2_settings.APPLICATION_MODEL.split("."))
    user = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    profile = apps.get_model("oauth_app", "Profile")
    group = apps.get_model("auth", "Group")
    membership = user._meta.get_field("groups").remote_field.through
    yield token._meta.db_table, "UPDATE OR DELETE OR TRUNCATE"
    for model in (application, user, profile, group, membership):
        yield model._meta.db_table, "INSERT OR UPDATE OR DELETE OR TRUNCATE"


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    q = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$"
    )
    for table, events in _tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {FUNCTION} ON {q(table)}")
        schema_editor.execute(
            f"CREATE TRIGGER {FUNCTION} AFTER {events} ON {q(table)} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    q = schema_editor.quote_name
    for table, _events in _tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {FUNCTION} ON {q(table)}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):

    dependencies = [
        ("mcp_gateway", "0001_initial"),
        ("oauth_app", "0008_used_authorization_codes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(oauth2_settings.ACCESS_TOKEN_MODEL),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
