"""``ChunkVector.in_tests``: whether a vector's chunk lies in a test file (``codeindex.testpaths``).

The column is added, then set for the stored vectors from their files' paths: files are read in
batches of 2,000, and each batch's vectors are updated in a transaction of their own (the
migration is not atomic, so a large index is not locked as a whole; it may be run again). On
pgvector, a model with more than ``vectors.NONTEST_INDEX_MIN_ROWS`` vectors outside test files
then gets the HNSW index of those alone, which ``exclude_tests`` searches walk. At one million
vectors the update rewrites the test files' rows (a quarter of them) and their index entries.
"""

from django.db import migrations, models, transaction

BATCH_FILES = 2000


def forwards(apps, schema_editor):
    from codeindex.testpaths import is_test_path

    SourceFile = apps.get_model("codeindex", "SourceFile")
    ChunkVector = apps.get_model("codeindex", "ChunkVector")
    alias = schema_editor.connection.alias
    last = 0
    while True:
        files = list(SourceFile.objects.using(alias).filter(pk__gt=last).order_by("pk").values_list("pk", "path")[:BATCH_FILES])
        if not files:
            break
        last = files[-1][0]
        tests = [pk for pk, path in files if is_test_path(path)]
        if tests:
            with transaction.atomic(using=alias):
                ChunkVector.objects.using(alias).filter(chunk__file_id__in=tests, in_tests=False).update(in_tests=True)
    if schema_editor.connection.vendor != "postgresql":
        return
    from codeindex import vectors

    vectors.forget_engine()
    if vectors.dense_engine_info().stores_embeddings:
        for model, dim in ChunkVector.objects.using(alias).values_list("model", "dim").distinct():
            vectors.ensure_nontest_index(model, dim)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [("codeindex", "0011_grep_blocks_rebuilt")]

    operations = [
        migrations.AddField(model_name="chunkvector", name="in_tests", field=models.BooleanField(default=False)),
        # backwards: removing the column drops the partial index on it
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
    ]
