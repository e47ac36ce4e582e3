"""Outgoing webhooks (Standard Webhooks): a project's endpoints, the delivery outbox, its sender.

Every app emits through `services.webhook_event_emit` / `webhook_events_emit`; they live
here, at the projects level, because every app above may import projects.
"""
