"""What the API reads and returns. Output shapes are plain serializers over the engine's results
and the audit models; input serializers validate before any service is called."""

from __future__ import annotations

from rest_framework import serializers

from codeindex.choices import JobStatus
from oauth_app.tiers import Tier

REASON = serializers.CharField(max_length=500, required=False, allow_blank=True, default="", trim_whitespace=True,
                               help_text="Why (kept in the operator-action audit trail).")


class JobSerializer(serializers.Serializer):
    """An index job and its progress (``console.index_jobs.progress_document``, without ``display``)."""

    id = serializers.IntegerField()
    repository = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    finished = serializers.BooleanField()
    files_done = serializers.IntegerField()
    files_total = serializers.IntegerField()
    chunks_done = serializers.IntegerField()
    chunks_total = serializers.IntegerField()
    percent = serializers.IntegerField(min_value=0, max_value=100)
    current_path = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    error_count = serializers.IntegerField()
    requested_by = serializers.CharField(allow_blank=True)


class FileErrorSerializer(serializers.Serializer):
    path = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)


class RepositorySerializer(serializers.Serializer):
    name = serializers.CharField()
    root_path = serializers.CharField(allow_blank=True)
    source_url = serializers.CharField(allow_blank=True)
    visibility = serializers.CharField()
    file_count = serializers.IntegerField()
    chunk_count = serializers.IntegerField()
    embedded_chunks = serializers.IntegerField()
    last_indexed_at = serializers.DateTimeField(allow_null=True)
    active_job = JobSerializer(allow_null=True)
    last_job = JobSerializer(allow_null=True)


class RepositoryCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="Letters, digits, '-' and '_'.")
    source = serializers.CharField(max_length=2000, help_text=(
        "A directory on the server under MCPRAG_SOURCE_ROOTS, or a git URL (https://, ssh://, user@host:path; "
        "file:// under the roots), as codeindex.source_policy allows."))
    groups = serializers.ListField(child=serializers.CharField(max_length=150), max_length=50, required=False,
                                   help_text="Only members of these Django groups may see it (default: everyone signed in).")
    reason = REASON


class ReasonSerializer(serializers.Serializer):
    reason = REASON


class RepositoryDeletedSerializer(serializers.Serializer):
    repository = serializers.CharField()
    files = serializers.IntegerField(help_text="Files it had.")


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    tier = serializers.ChoiceField(choices=Tier.choices)
    is_staff = serializers.BooleanField(help_text="An operator.")
    is_active = serializers.BooleanField()
    mfa_enrolled = serializers.BooleanField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)


class TierChangeSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=[(t.value, t.label) for t in Tier if t != Tier.SERVICE])
    reason = serializers.CharField(max_length=500, trim_whitespace=True, help_text="Required; kept in the audit trail.")


class AgentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client_id = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    registration_source = serializers.CharField(allow_blank=True)
    is_service_client = serializers.BooleanField()
    allowed_scopes = serializers.CharField(allow_blank=True, help_text="Service clients only.")
    redirect_uris = serializers.ListField(child=serializers.CharField())
    created = serializers.DateTimeField()
    disabled_at = serializers.DateTimeField(allow_null=True)


class RevokeReportSerializer(serializers.Serializer):
    people = serializers.IntegerField()
    access_tokens = serializers.IntegerField()


class ActionResultSerializer(serializers.Serializer):
    changed = serializers.BooleanField(help_text="False when there was nothing to change (e.g. already disabled).")
    agent = AgentSerializer()


class ToolCallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    user_id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField(allow_blank=True)
    client_id = serializers.CharField(allow_blank=True)
    tool = serializers.CharField()
    transport = serializers.CharField()
    outcome = serializers.CharField()
    error_class = serializers.CharField(allow_blank=True)
    duration_ms = serializers.FloatField()
    arguments_bytes = serializers.IntegerField()
    result_bytes = serializers.IntegerField()


class AuthEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    user_id = serializers.IntegerField(allow_null=True)
    username = serializers.SerializerMethodField()
    client_id = serializers.CharField(allow_blank=True)
    ip = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    detail = serializers.DictField()

    def get_username(self, obj) -> str:
        return obj.user.get_username() if obj.user_id and obj.user else ""


class OperatorActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    operator_username = serializers.CharField(allow_blank=True)
    person_id = serializers.IntegerField(allow_null=True)
    client_id = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    detail = serializers.DictField()
