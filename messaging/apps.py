from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _counts_triggers_ensure(sender, *, using: str, **kwargs) -> None:
    # SQLite drops a table's triggers when a migration rebuilds it: put back what is missing.
    from django.db import connections

    from messaging.dashboard.triggers import counts_triggers_install

    counts_triggers_install(connections[using])


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        post_migrate.connect(_counts_triggers_ensure, sender=self)

        from messaging.metrics import messaging_metrics_collect
        from wappin_portal.metrics import scrape_collector_register

        scrape_collector_register(messaging_metrics_collect)
