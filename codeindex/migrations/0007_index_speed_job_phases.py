from django.db import migrations, models


class Migration(migrations.Migration):
    """Index jobs report progress per phase (files → chunks → embeddings); an embeddings job may run
    beside an index job of the same repository."""

    dependencies = [("codeindex", "0006_symbols")]

    operations = [
        migrations.RemoveConstraint(model_name="indexjob", name="codeindex_indexjob_one_active_per_repository"),
        migrations.AddConstraint(
            model_name="indexjob",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ("queued", "running"))) & ~models.Q(kind="embeddings"),
                fields=("repository",), name="codeindex_indexjob_one_active_per_repository"),
        ),
        migrations.AddConstraint(
            model_name="indexjob",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "embeddings"), ("status__in", ("queued", "running"))),
                fields=("repository",), name="codeindex_indexjob_one_active_embedding_job"),
        ),
        migrations.AddField(
            model_name="indexjob", name="phase",
            field=models.CharField(blank=True, default="", help_text="The phase running now (files, chunks, embeddings).", max_length=16),
        ),
        migrations.AddField(
            model_name="indexjob", name="phases",
            field=models.JSONField(blank=True, default=dict, help_text='Per phase: {"files": {"done": 84, "total": 200}, …}.'),
        ),
    ]
