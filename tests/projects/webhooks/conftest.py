import pytest

from tests.webhook_receiver import WebhookReceiver


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()
