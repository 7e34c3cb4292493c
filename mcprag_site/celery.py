"""The Celery app. Tasks live in each app's ``tasks.py``; without REDIS_URL they run eagerly."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")

app = Celery("mcprag")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
