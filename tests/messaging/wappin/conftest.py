"""An integration known to the running sandbox, a template it approved, and the client for them."""

from __future__ import annotations

import pytest

from messaging.wappin import WappinClient
from templates_app.models import TemplateLanguage
from tests import factories

GOOD_NUMBER = "6281327666166"


@pytest.fixture
def integration(db, project):
    return factories.IntegrationFactory(project=project)


@pytest.fixture
def template_language(db, project):
    """Approved `order_update` (id, then en): 2 body params, a header variable, URL and reply buttons."""
    template = factories.TemplateFactory(project=project, name="order_update")
    first = factories.TemplateLanguageFactory(
        template=template,
        language_code="id",
        position=0,
        header_type=TemplateLanguage.HeaderType.TEXT,
        header_text="Pesanan {{1}}",
        body="Halo {{1}}, pesanan {{2}} sudah dikirim.",
        buttons=[
            {"type": "url", "text": "Lacak", "url": "https://shop.example/track/{{1}}"},
            {"type": "quick_reply", "text": "Terima kasih", "payload": "thanks"},
            {"type": "quick_reply", "text": "Bantuan", "payload": "help"},
        ],
    )
    factories.TemplateLanguageFactory(
        template=template,
        language_code="en",
        position=1,
        header_type=TemplateLanguage.HeaderType.TEXT,
        header_text="Order {{1}}",
        body="Hello {{1}}, order {{2}} is on its way.",
    )
    return first


@pytest.fixture
def media_template(db, project):
    """Approved `invoice_ready`: an image/document header and one body param."""
    template = factories.TemplateFactory(project=project, name="invoice_ready")
    return factories.TemplateLanguageFactory(
        template=template,
        language_code="id",
        header_type=TemplateLanguage.HeaderType.DOCUMENT,
        body="Halo {{1}}, tagihan Anda terlampir.",
    )


@pytest.fixture
def registered(wappin_sandbox, integration, template_language, media_template):
    """The sandbox knows the integration's client, secret key, whitelist and approved templates."""
    wappin_sandbox.register(integration)
    return integration


@pytest.fixture
def wappin(registered):
    return WappinClient(registered)
