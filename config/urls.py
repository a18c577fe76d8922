from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from arrears.staff import views as staff_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", staff_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("arrears.portal.urls")),
    path("", include("arrears.staff.urls")),
]
