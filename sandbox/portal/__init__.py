"""Development glue between the portal (Django) and the Wappin sandbox (stdlib only).

A Django app (`sandbox_portal`) that only the local and test settings install.
The emulator's own modules (`sandbox/*.py`) never import it, so they stay free
of Django.
"""
