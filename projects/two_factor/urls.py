"""Log-in (with its second step) and each user's two-factor page; no namespace (`login` is Django's name)."""

from django.urls import path

from projects.two_factor import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("two-factor/", views.two_factor_page, name="two_factor"),
    path("two-factor/backup-codes/", views.backup_codes_replace, name="two_factor_backup_codes"),
    path("two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
]
