from django.urls import path

from arrears.staff import collection_views, views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("units/", views.search, name="search"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
    path("import/", views.import_page, name="import"),
    path("workbench/", collection_views.workbench, name="workbench"),
    path("workbench/tasks/<int:pk>/log/", collection_views.task_log, name="task_log"),
    path("cases/", collection_views.cases, name="cases"),
    path("cases/<int:pk>/attempts/", collection_views.case_attempt, name="case_attempt"),
    path("cases/<int:pk>/promises/", collection_views.case_promise, name="case_promise"),
    path("cases/<int:pk>/profile/", collection_views.case_profile, name="case_profile"),
    path("desk/", collection_views.desk, name="desk"),
]
