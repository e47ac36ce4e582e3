from django.apps import AppConfig


class SandboxPortalConfig(AppConfig):
    """Development glue between the portal and the Wappin sandbox.

    Demo seeding (`seed_demo`), the sandbox's world from the database
    (`sandbox_world`), and the sandbox's review of requested templates. Only
    the local and test settings install it; production never does.
    """

    name = "sandbox.portal"
    label = "sandbox_portal"
    verbose_name = "Sandbox glue (development only)"

    def ready(self) -> None:
        from sandbox.portal import receivers  # noqa: F401 - connects the signal receivers
