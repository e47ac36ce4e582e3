from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Projects and integrations")

    def ready(self) -> None:
        from projects import receivers  # noqa: F401 - connects the signal receivers
