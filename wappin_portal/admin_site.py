"""The admin site: superusers only.

Django's admin is not scoped to projects: a staff user with a model's view or
change permission sees and acts on every project's rows (issue 10: view-only
staff ran the revoke, deactivate and cancel actions on other projects, and a
staff user with the membership permission made itself admin of another
project). So the admin is for the people who run the portal; a project's own
admins work in the portal's pages, where every check is per project.
"""

from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class PortalAdminSite(AdminSite):
    site_header = _("Wappin Portal administration")
    site_title = _("Wappin Portal admin")
    index_title = _("Projects, accounts and integrations")

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser
