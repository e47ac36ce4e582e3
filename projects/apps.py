from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects and integrations"

    def ready(self) -> None:
        from projects import receivers  # noqa: F401 - connects the signal receivers
