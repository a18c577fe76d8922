from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from arrears.api import views as api_views
from arrears.staff import views as staff_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", api_views.healthz, name="healthz"),
    path("", include("arrears.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", staff_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("arrears.portal.urls")),
    path("", include("arrears.staff.urls")),
]

# Styled, one-language error pages with the way back; owners' pages get the portal's look.
handler400 = "arrears.staff.errors.bad_request"
handler403 = "arrears.staff.errors.permission_denied"
handler404 = "arrears.staff.errors.page_not_found"
handler500 = "arrears.staff.errors.server_error"
