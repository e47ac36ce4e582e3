"""django-axes with two limits: per account at one address, and per account from everywhere.

axes counts failures per lock-out parameter group (`AXES_LOCKOUT_PARAMETERS`:
username + address, then username alone) but compares the largest count with one
limit. One limit cannot serve both: a low one lets an attacker lock any account
out from everywhere, a high one lets one address guess for long. So the account's
count from every address has a higher limit of its own, `AXES_USERNAME_FAILURE_LIMIT`.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit


class PortalAxesHandler(AxesDatabaseHandler):
    """The database handler, with the per-account limit kept apart from the per-address one."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """The failures that count against `AXES_FAILURE_LIMIT` for this account at this address.

        Those at this address, until the account's failures from every address reach
        `AXES_USERNAME_FAILURE_LIMIT`: from then on the account is at its limit everywhere.
        """
        # One query set per group of AXES_LOCKOUT_PARAMETERS, in its order.
        at_address, everywhere = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if everywhere >= settings.AXES_USERNAME_FAILURE_LIMIT:
            return max(at_address, get_failure_limit(request, credentials))
        return at_address
