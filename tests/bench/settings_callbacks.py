"""The production settings with the callback benchmark's URLconf (the portal's, plus a bare view)."""

from wappin_portal.settings.production import *  # noqa: F403

ROOT_URLCONF = "tests.bench.urls_callbacks"
