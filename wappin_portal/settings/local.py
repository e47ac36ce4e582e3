"""A developer's machine: `make run`. Debug on; keys come from `.env`."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, WAPPIN_BASE_URL, env

DEBUG = env.bool("DEBUG", default=True)

# Development glue (sandbox/portal/): `seed_demo`, `sandbox_world`, and the
# sandbox's review of requested templates. Production settings never install it.
INSTALLED_APPS = [*INSTALLED_APPS, "sandbox.portal"]
# The sandbox's admin endpoints, read by that glue only (its world, its template
# review); empty: no sandbox, templates wait for an admin as in production.
WAPPIN_SANDBOX_URL = env("WAPPIN_SANDBOX_URL", default=WAPPIN_BASE_URL)

# Webhook receivers on this machine (http://127.0.0.1:...) are fine while developing.
WEBHOOK_ALLOW_INSECURE_URLS = env.bool("WEBHOOK_ALLOW_INSECURE_URLS", default=True)
