from django.urls import path

from arrears.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("units/", views.search, name="search"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
    path("import/", views.import_page, name="import"),
]
