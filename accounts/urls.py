from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("preferences/", views.preferences, name="preferences"),
    # The second step of signing in (users with a TOTP device), and enrolment.
    path("login/verify/", views.login_verify, name="login-verify"),
    path("two-factor/add/", views.totp_add, name="totp-add"),
    path("two-factor/remove/", views.totp_remove, name="totp-remove"),
]
