from django.urls import path

from arrears.api import token_views
from arrears.api.v1 import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("api-tokens/", token_views.tokens_page, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", token_views.revoke, name="api_token_revoke"),
]
