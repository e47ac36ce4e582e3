#!/usr/bin/env python
import os
import sys

# Commands of the development glue (the `sandbox.portal` app), which production
# settings do not install: there, name them with a clear refusal, not "Unknown command".
DEVELOPMENT_COMMANDS = ("seed_demo", "sandbox_world")
DEVELOPMENT_APP = "sandbox.portal"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wappin_portal.settings.local")
    from django.apps import apps
    from django.core.management import ManagementUtility

    class PortalManagementUtility(ManagementUtility):
        def fetch_command(self, subcommand: str):
            # Called once the settings (--settings included) are loaded and the apps ready.
            if subcommand in DEVELOPMENT_COMMANDS and not apps.is_installed(DEVELOPMENT_APP):
                sys.stderr.write(
                    f"{subcommand} is a development command: these settings "
                    f"({os.environ.get('DJANGO_SETTINGS_MODULE')}) do not install {DEVELOPMENT_APP}, "
                    "as production must not. Run it with wappin_portal.settings.local.\n"
                )
                sys.exit(2)
            return super().fetch_command(subcommand)

    PortalManagementUtility(sys.argv).execute()


if __name__ == "__main__":
    main()
