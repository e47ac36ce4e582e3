"""Signals messaging sends, for the apps above it (callbacks) to listen to without being imported."""

from django.dispatch import Signal

# Wappin accepted these messages (their `wappin_message_id`s are stored now).
# Keyword argument: wappin_message_ids (list[str]).
messages_accepted = Signal()
