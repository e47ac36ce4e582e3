"""What the templates app tells the rest of the code about templates.

Sent inside the service's transaction, like Django's `post_save`: a receiver
that starts work elsewhere enqueues it after commit. Production installs no
receiver (Wappin learns of templates in its own dashboard); the development
sandbox's glue (`sandbox/portal/`) listens to play Wappin's review.
"""

from django.dispatch import Signal

# A template was sent for review (it is on process now). Arguments: `template`.
template_approval_requested = Signal()

# A template's status moved. Arguments: `template`, `from_status`, `to_status`.
template_status_changed = Signal()
