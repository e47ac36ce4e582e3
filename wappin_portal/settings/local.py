"""A developer's machine: `make run`. Debug on; keys come from `.env`."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
WAPPIN_SANDBOX_URL = env("WAPPIN_SANDBOX_URL", default=WAPPIN_BASE_URL)  # noqa: F405
