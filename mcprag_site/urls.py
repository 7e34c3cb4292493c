"""Root URL configuration: each app's routes, included once; well-known routes at the root."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from console.urls import account_urlpatterns as agent_account_urlpatterns
from oauth_app.urls import account_urlpatterns
from mcp_gateway.views import home

urlpatterns = [
    path("", home, name="home"),
    path("", include("oauth_app.urls")),
    path("", include("mcp_gateway.urls")),
    path("", include((account_urlpatterns, "accounts"))),
    path("console/", include("console.urls")),
    path("api/", include("operator_api.urls")),
    path("account/", include((agent_account_urlpatterns, "account"))),
    path("admin/", admin.site.urls),
    path("favicon.ico", RedirectView.as_view(url=static("mcprag/favicon.svg"), permanent=True)),  # browsers ask for it
]

handler400 = "mcp_gateway.views.bad_request"
handler403 = "mcp_gateway.views.permission_denied"
handler404 = "mcp_gateway.views.page_not_found"
handler500 = "mcp_gateway.views.server_error"
