"""The portal's main pages with a row of everything to show, for the page-wide browser checks."""

from __future__ import annotations

from django.utils import timezone

from messaging.models import Blast, ContactGroup, ContactImport, Message
from projects.services import api_key_create
from tests import factories

# A name of 120 characters with no space: the worst case for a table column.
LONG_NAME = "Budi" + "x" * 116


def main_pages(*, project, admin_user) -> list[str]:
    """Fill the project with one of everything and give the paths of the main pages."""
    template = factories.TemplateFactory(project=project, name="order_shipped")
    factories.TemplateLanguageFactory(
        template=template,
        header_type="text",
        header_text="Pesanan {{1}}",
        body="Halo *{{1}}*, pesanan {{2}} sudah dikirim.",
        footer="Demo Shop",
        buttons=[
            {"type": "url", "text": "Lacak", "url": "https://shop.example/track/{{1}}"},
            {"type": "quick_reply", "text": "Terima kasih", "payload": "thanks"},
        ],
    )
    draft = factories.TemplateFactory(project=project, name="draft_promo", status="draft")
    factories.TemplateLanguageFactory(template=draft)
    group = ContactGroup.objects.create(project=project, name="VIP " + "y" * 90)
    contact = factories.ContactFactory(
        project=project, name=LONG_NAME, last_inbound_at=timezone.now()
    )
    contact.groups.add(group)
    factories.ContactFactory(project=project, name="Siti", opted_out_at=timezone.now())
    message = factories.MessageFactory(
        project=project,
        contact=contact,
        phone_number=contact.phone_number,
        kind=Message.Kind.HSM,
        template=template,
        template_name=template.name,
        language_code="id",
        params={"1": "Budi", "2": "INV-7"},
        status=Message.Status.READ,
    )
    factories.MessageFactory(
        project=project,
        contact=contact,
        phone_number=contact.phone_number,
        direction=Message.Direction.INCOMING,
        status=Message.Status.RECEIVED,
        source=Message.Source.CUSTOMER,
        text="Kapan sampai? " + "z" * 200,
    )
    blast = Blast.objects.create(
        project=project,
        name="Weekend promo",
        template_name=template.name,
        language_code="id",
        group=group,
        params={"1": {"source": "name", "value": ""}, "2": {"source": "fixed", "value": "INV"}},
        created_by=admin_user,
    )
    keyword = factories.ChatbotKeywordFactory(project=project, keyword="promo")
    contact_import = ContactImport.objects.create(
        project=project, original_filename="contacts.csv", created_by=admin_user
    )
    api_key_create(project=project, name="order service", created_by=admin_user)
    integration = factories.IntegrationFactory(project=project)
    endpoint = factories.WebhookEndpointFactory(project=project)
    factories.MembershipFactory(project=project, role="viewer")
    return [
        "/dashboard/",
        "/templates/",
        f"/templates/{template.pk}/",
        "/templates/new/",
        f"/templates/{draft.pk}/edit/",
        "/templates/keywords/",
        "/templates/keywords/new/",
        f"/templates/keywords/{keyword.pk}/edit/",
        "/templates/chatbot-settings/",
        "/contacts/",
        "/contacts/new/",
        f"/contacts/{contact.pk}/edit/",
        "/contacts/groups/",
        "/contacts/import/",
        "/blasts/",
        "/blasts/new/?template=order_shipped",
        f"/blasts/{blast.pk}/",
        "/history/",
        f"/history/{message.pk}/",
        "/history/test-send/?template=order_shipped",
        f"/contacts/imports/{contact_import.pk}/",
        "/callbacks/chat/",
        f"/callbacks/chat/{contact.pk}/",
        "/api-keys/",
        "/webhooks/",
        f"/webhooks/{endpoint.pk}/",
        "/project/members/",
        "/project/integrations/",
        f"/project/integrations/{integration.pk}/",
        "/project/audit/",
        "/projects/settings/",
        "/accounts/two-factor/",
    ]


def logged_in_context(browser, live_server, user, **options):
    """A browser context with a session for `user` (as the `logged_in_page` fixture makes)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    context = browser.new_context(**options)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )
    return context
