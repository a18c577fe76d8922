from django.urls import path

from arrears.portal import views

app_name = "portal"

urlpatterns = [
    path("s/<str:token>", views.statement, name="statement"),
    path("s/<str:token>/pay", views.pay, name="pay"),
    path("s/<str:token>/wechat", views.wechat_callback, name="wechat"),
    path("s/<str:token>/orders/<str:number>", views.order, name="order"),
    path("s/<str:token>/receipts/<str:number>.pdf", views.receipt, name="receipt"),
    path("s/<str:token>/instalments", views.instalment, name="instalment"),
    path("s/<str:token>/complaints", views.complaint, name="complaint"),
    path("s/<str:token>/surveys/<str:number>", views.survey, name="survey"),
    path("pay/sandbox/<str:number>", views.sandbox_pay, name="sandbox_pay"),
    path("pay/notify/<str:provider>", views.notify, name="notify"),
]
