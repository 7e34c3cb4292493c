"""The operator API's endpoints. Each write is one ``console.services`` call (the console's own
function, which writes the ``OperatorAction`` row); each list reuses the console's filter form,
here strict: an invalid filter is a 400 naming the field, never silently ignored.

Adding an operator action is one small view: a ``@action`` that validates its body with a
serializer, calls the ``console.services`` function with :func:`acting_operator`, and returns
what changed (see :class:`AgentViewSet`).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from oauth2_provider.models import get_application_model
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from codeindex import services as codeindex
from codeindex.exceptions import CodeIndexError, InvalidArgument
from console import services
from console.filters import (
    AgentFilterForm,
    AuthEventFilterForm,
    IndexJobFilterForm,
    OperatorActionFilterForm,
    PersonFilterForm,
    ToolCallFilterForm,
)
from console.index_jobs import OPERATOR_ACCESS, file_errors, progress_document
from console.models import OperatorAction
from mcp_gateway.models import ToolCall
from oauth_app.models import AuthEvent
from oauth_app.scopes import tier_of

from . import serializers as s
from .authentication import acting_operator
from .errors import InvalidRequest, engine_error
from .pagination import AuditCursor, NumberedPages

__all__ = ["RepositoryViewSet", "JobViewSet", "PersonViewSet", "AgentViewSet", "ToolCallViewSet", "AuthEventViewSet",
           "OperatorActionViewSet", "not_found"]


# --- filters: the console's forms, strict ------------------------------------------------------------

def _validated(form: forms.Form) -> forms.Form:
    if form.is_bound and not form.is_valid():
        raise InvalidRequest("A filter is invalid.", fields={k: [str(m) for m in v] for k, v in form.errors.items()})
    return form


def _filtered(form_class, request, queryset):
    return _validated(form_class(request.query_params or None)).filter(queryset)


def _parameters(form_class) -> list[OpenApiParameter]:
    """OpenAPI query parameters from a console filter form's declared fields (fixed choices become
    an ``enum``; choices filled per request, such as tool or repository names, stay strings)."""
    parameters = []
    for name, field in form_class.base_fields.items():
        enum = None
        kind = OpenApiTypes.STR
        if isinstance(field, forms.DateField):
            kind = OpenApiTypes.DATE
        elif isinstance(field, forms.ChoiceField) and [c for c in field.choices if c[0] != ""]:
            enum = [value for value, _label in field.choices if value != ""]
        parameters.append(OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=False, enum=enum,
                                           description=str(field.label or name.capitalize())))
    return parameters


# --- repositories and jobs --------------------------------------------------------------------------

def _job(job) -> dict:
    document = progress_document(job, errors_limit=0)
    document.pop("display", None)
    document.pop("errors", None)
    document["requested_by"] = job.requested_by
    return document


def _repository(repo) -> dict:
    return {
        "name": repo.name, "root_path": repo.root_path, "source_url": repo.source_url, "visibility": repo.visibility,
        "file_count": repo.file_count, "chunk_count": repo.chunk_count, "embedded_chunks": repo.embedded_chunks,
        "last_indexed_at": repo.last_indexed_at,
        "active_job": _job(repo.active_job) if repo.active_job else None,
        "last_job": _job(repo.last_job) if repo.last_job else None,
    }


class _OperatorViewSet(viewsets.GenericViewSet):
    pagination_class = NumberedPages

    def _page(self, rows, serializer_class=None, transform=None):
        page = self.paginate_queryset(rows)
        items = [transform(row) for row in page] if transform else page
        data = (serializer_class or self.get_serializer_class())(items, many=True).data
        return self.get_paginated_response(data)


@extend_schema_view(
    list=extend_schema(summary="List repositories", responses=s.RepositorySerializer(many=True)),
    retrieve=extend_schema(summary="One repository", responses=s.RepositorySerializer),
    create=extend_schema(summary="Add a repository and start indexing it", request=s.RepositoryCreateSerializer,
                         responses={202: s.JobSerializer}),
    destroy=extend_schema(summary="Delete a repository", request=s.ReasonSerializer,
                          responses={200: s.RepositoryDeletedSerializer}),
    reindex=extend_schema(summary="Re-index from its recorded source", request=None, responses={202: s.JobSerializer}),
)
class RepositoryViewSet(_OperatorViewSet):
    """Repositories, through ``codeindex.services`` with the operator's view (every repository)."""

    serializer_class = s.RepositorySerializer
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def _find(self, name: str):
        found = next((r for r in codeindex.status(access=OPERATOR_ACCESS) if r.name == name), None)
        if found is None:
            raise NotFound(f"No repository named {name[:100]!r} is indexed.")
        return found

    def list(self, request):
        return self._page(codeindex.status(access=OPERATOR_ACCESS), transform=_repository)

    def retrieve(self, request, name=None):
        return Response(s.RepositorySerializer(_repository(self._find(name))).data)

    def create(self, request):
        body = s.RepositoryCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            job = services.add_repository(acting_operator(request), data["name"], data["source"],
                                          groups=data.get("groups"), reason=data.get("reason", ""), via="api")
        except (CodeIndexError, ValueError) as error:
            raise engine_error(error) from None
        return Response(s.JobSerializer(_job(job)).data, status=status.HTTP_202_ACCEPTED)

    def destroy(self, request, name=None):
        body = s.ReasonSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        try:
            files = services.remove_repository(acting_operator(request), name, reason=body.validated_data["reason"])
        except (CodeIndexError, ValueError) as error:
            raise engine_error(error) from None
        return Response({"repository": name, "files": files})

    @action(detail=True, methods=["post"])
    def reindex(self, request, name=None):
        try:
            job = services.start_reindex(acting_operator(request), name, via="api")
        except CodeIndexError as error:
            raise engine_error(error) from None
        return Response(s.JobSerializer(_job(job)).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="List index jobs (the newest 200)", parameters=_parameters(IndexJobFilterForm),
                       responses=s.JobSerializer(many=True)),
    retrieve=extend_schema(summary="One job and its progress", responses=s.JobSerializer),
    errors=extend_schema(summary="A job's per-file errors", responses=s.FileErrorSerializer(many=True)),
)
class JobViewSet(_OperatorViewSet):
    serializer_class = s.JobSerializer
    lookup_value_regex = "[0-9]{1,18}"  # ids; longer numbers are no id (and overflow the database)

    def _get(self, pk):
        try:
            return codeindex.job(int(pk), access=OPERATOR_ACCESS)
        except (ValueError, OverflowError, InvalidArgument):
            raise NotFound(f"No index job {str(pk)[:20]}.") from None

    def list(self, request):
        names = [repo.name for repo in codeindex.status(access=OPERATOR_ACCESS)]
        form = _validated(IndexJobFilterForm(request.query_params or None, repositories=names))
        jobs = codeindex.jobs(access=OPERATOR_ACCESS, repository=form.chosen_repository(), limit=200)
        return self._page(form.filter(jobs), transform=_job)

    def retrieve(self, request, pk=None):
        return Response(s.JobSerializer(_job(self._get(pk))).data)

    @action(detail=True, methods=["get"])
    def errors(self, request, pk=None):
        return self._page(file_errors(self._get(pk)), serializer_class=s.FileErrorSerializer)


# --- people and agents ------------------------------------------------------------------------------

def _person(user) -> dict:
    profile = getattr(user, "mcprag_profile", None)
    return {
        "id": user.pk, "username": user.get_username(), "email": user.email or "", "tier": tier_of(user),
        "is_staff": user.is_staff, "is_active": user.is_active,
        "mfa_enrolled": bool(profile is not None and profile.mfa_enrolled_at is not None),
        "date_joined": user.date_joined, "last_login": user.last_login,
    }


@extend_schema_view(
    list=extend_schema(summary="List people", parameters=_parameters(PersonFilterForm), responses=s.PersonSerializer(many=True)),
    retrieve=extend_schema(summary="One person", responses=s.PersonSerializer),
    tier=extend_schema(summary="Change a person's tier (a reason is required)", request=s.TierChangeSerializer,
                       responses=s.PersonSerializer),
)
class PersonViewSet(_OperatorViewSet):
    serializer_class = s.PersonSerializer
    lookup_value_regex = "[0-9]{1,18}"  # ids; longer numbers are no id (and overflow the database)

    def get_queryset(self):
        return get_user_model().objects.select_related("mcprag_profile").order_by("username", "id")

    def list(self, request):
        return self._page(_filtered(PersonFilterForm, request, self.get_queryset()), transform=_person)

    def retrieve(self, request, pk=None):
        return Response(s.PersonSerializer(_person(get_object_or_404(self.get_queryset(), pk=pk))).data)

    @action(detail=True, methods=["post"])
    def tier(self, request, pk=None):
        person = get_object_or_404(self.get_queryset(), pk=pk)
        body = s.TierChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.change_tier(acting_operator(request), person, body.validated_data["tier"], body.validated_data["reason"])
        except ValueError as error:
            raise engine_error(error) from None
        person.refresh_from_db()
        return Response(s.PersonSerializer(_person(get_object_or_404(self.get_queryset(), pk=person.pk))).data)


def _agent(app) -> dict:
    return {
        "id": app.pk, "client_id": app.client_id, "name": app.name or "",
        "registration_source": getattr(app, "registration_source", "") or "",
        "is_service_client": app.is_service_client, "allowed_scopes": app.allowed_scopes or "",
        "redirect_uris": (app.redirect_uris or "").split(), "created": app.created, "disabled_at": app.disabled_at,
    }


_AGENT_ACTION = dict(request=s.ReasonSerializer, responses=s.ActionResultSerializer)


@extend_schema_view(
    list=extend_schema(summary="List agents (OAuth clients)", parameters=_parameters(AgentFilterForm),
                       responses=s.AgentSerializer(many=True)),
    retrieve=extend_schema(summary="One agent", responses=s.AgentSerializer),
    disable=extend_schema(summary="Disable an agent: no new tokens, its tokens stop working", **_AGENT_ACTION),
    enable=extend_schema(summary="Enable a disabled agent", **_AGENT_ACTION),
    revoke=extend_schema(summary="Revoke every token and consent of an agent, for everyone", request=s.ReasonSerializer,
                         responses=s.RevokeReportSerializer),
)
class AgentViewSet(_OperatorViewSet):
    serializer_class = s.AgentSerializer
    lookup_value_regex = "[0-9]{1,18}"  # ids; longer numbers are no id (and overflow the database)

    def get_queryset(self):
        return get_application_model().objects.order_by("-created", "-id")

    def list(self, request):
        return self._page(_filtered(AgentFilterForm, request, self.get_queryset()), transform=_agent)

    def retrieve(self, request, pk=None):
        return Response(s.AgentSerializer(_agent(get_object_or_404(self.get_queryset(), pk=pk))).data)

    def _reason(self, request) -> str:
        body = s.ReasonSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        return body.validated_data["reason"]

    def _toggle(self, request, pk, service):
        agent = get_object_or_404(self.get_queryset(), pk=pk)
        changed = service(acting_operator(request), agent, self._reason(request))
        return Response({"changed": changed is not None, "agent": s.AgentSerializer(_agent(agent)).data})

    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        return self._toggle(request, pk, services.disable_agent)

    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        return self._toggle(request, pk, services.enable_agent)

    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        agent = get_object_or_404(self.get_queryset(), pk=pk)
        report = services.revoke_agent_for_everyone(acting_operator(request), agent, self._reason(request),
                                                    request=request._request)
        return Response({"people": report.people, "access_tokens": report.access_tokens})


# --- audit ------------------------------------------------------------------------------------------

class _AuditViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    pagination_class = AuditCursor
    filter_form_class = None

    def get_queryset(self):
        return _filtered(self.filter_form_class, self.request, self.queryset.all())


@extend_schema_view(list=extend_schema(summary="Tool calls", parameters=_parameters(ToolCallFilterForm)))
class ToolCallViewSet(_AuditViewSet):
    queryset = ToolCall.objects.all()
    serializer_class = s.ToolCallSerializer
    filter_form_class = ToolCallFilterForm


@extend_schema_view(list=extend_schema(summary="Authorization-server events", parameters=_parameters(AuthEventFilterForm)))
class AuthEventViewSet(_AuditViewSet):
    queryset = AuthEvent.objects.select_related("user")
    serializer_class = s.AuthEventSerializer
    filter_form_class = AuthEventFilterForm


@extend_schema_view(list=extend_schema(summary="Operator actions", parameters=_parameters(OperatorActionFilterForm)))
class OperatorActionViewSet(_AuditViewSet):
    queryset = OperatorAction.objects.all()
    serializer_class = s.OperatorActionSerializer
    filter_form_class = OperatorActionFilterForm


@csrf_exempt  # a POST to an unknown API path is a 404 like a GET, not the CSRF page (no cookies are used here)
def not_found(request, *args, **kwargs):
    """Any other path under ``/api/``: the API's 404 shape."""
    return JsonResponse({"error": "not_found", "error_description": "No such API endpoint; see /api/schema/."}, status=404)
