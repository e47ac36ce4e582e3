"""A viewer reads every page their role opens and is offered no write on any of them."""

from __future__ import annotations

import re

import pytest

from messaging.models import Blast, ContactGroup, Message
from projects.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db

# The header's own forms (log out, switch project, language) are on every page.
HEADER_FORMS = ("/accounts/logout/", "/projects/switch/", "/i18n/setlang/")


def test_a_viewer_sees_the_pages_but_no_button_that_writes(client, project):
    # Given a viewer of a project with a row of each kind
    viewer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=viewer, role=Membership.Role.VIEWER)
    template = factories.TemplateFactory(project=project, status="approved")
    factories.TemplateLanguageFactory(template=template)
    draft = factories.TemplateFactory(project=project, status="draft")
    factories.TemplateLanguageFactory(template=draft)
    factories.ChatbotKeywordFactory(project=project)
    contact = factories.ContactFactory(project=project, name="Budi Santoso")
    group = ContactGroup.objects.create(project=project, name="VIP")
    blast = Blast.objects.create(
        project=project,
        name="June promo",
        template=template,
        template_name=template.name,
        language_code="id",
        group=group,
    )
    message = factories.MessageFactory(
        project=project, contact=contact, direction=Message.Direction.OUTGOING
    )
    client.force_login(viewer)

    pages = [
        "/dashboard/",
        "/templates/",
        f"/templates/{template.pk}/",
        f"/templates/{draft.pk}/",
        "/templates/keywords/",
        "/contacts/",
        "/history/",
        f"/history/{message.pk}/",
        "/blasts/",
        f"/blasts/{blast.pk}/",
        "/callbacks/chat/",
        f"/callbacks/chat/{contact.pk}/",
    ]
    for url in pages:
        # When they open it
        response = client.get(url)
        page = response.content.decode()

        # Then it answers, and offers no form that posts and no link to a form page
        assert response.status_code == 200, url
        actions = re.findall(r'<form method="post"(?: [^>]*action="([^"]*)")?', page)
        assert [a for a in actions if a not in HEADER_FORMS] == [], url
        for write_page in ("/new/", "/edit/", "/import/", "/test-send/", "chatbot-settings"):
            assert write_page not in page, (url, write_page)
