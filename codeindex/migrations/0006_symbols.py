"""The navigation tables: definitions (``Symbol``) and name occurrences (``Occurrence``) per file,
with indexes for lookups by name within a repository and by line within a file."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('codeindex', '0005_file_text'),
    ]

    operations = [
        migrations.CreateModel(
            name='Occurrence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200)),
                ('line', models.PositiveIntegerField()),
                ('column', models.PositiveIntegerField()),
                ('kind', models.CharField(max_length=32)),
                ('qualifier', models.CharField(blank=True, default='', max_length=200)),
                ('enclosing', models.TextField(blank=True, default='')),
                ('text', models.TextField(blank=True, default='')),
                ('module', models.TextField(blank=True, default='')),
                ('alias', models.CharField(blank=True, default='', max_length=200)),
                ('file', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='occurrences', to='codeindex.sourcefile')),
                ('repository', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='codeindex.repository')),
            ],
            options={
                'indexes': [models.Index(fields=['repository', 'name'], name='codeindex_occurrence_repo_name'), models.Index(fields=['file', 'line'], name='codeindex_occurrence_file_line')],
            },
        ),
        migrations.CreateModel(
            name='Symbol',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200)),
                ('qualified_name', models.TextField()),
                ('kind', models.CharField(max_length=32)),
                ('signature', models.TextField(blank=True, default='')),
                ('start_line', models.PositiveIntegerField()),
                ('end_line', models.PositiveIntegerField()),
                ('line', models.PositiveIntegerField()),
                ('column', models.PositiveIntegerField()),
                ('scope', models.TextField(blank=True, default='')),
                ('file', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='symbols', to='codeindex.sourcefile')),
                ('repository', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='codeindex.repository')),
            ],
            options={
                'indexes': [models.Index(fields=['repository', 'name'], name='codeindex_symbol_repo_name'), models.Index(fields=['file', 'start_line'], name='codeindex_symbol_file_line')],
            },
        ),
    ]
