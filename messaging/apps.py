from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from messaging.metrics import messaging_metrics_collect
        from wappin_portal.metrics import scrape_collector_register

        scrape_collector_register(messaging_metrics_collect)
