from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """`django.contrib.admin` with the portal's site (superusers only: `admin_site.py`)."""

    default_site = "wappin_portal.admin_site.PortalAdminSite"
