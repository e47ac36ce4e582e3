"""The README's screenshots: `make screenshots` writes them into docs/screenshots/.

The dashboard, a blast in progress, the chat panel and the template editor, on a desktop and
on a phone, in English and in Bahasa Indonesia, from Debian's Chromium on a live server with a
project of realistic rows. Skipped unless SCREENSHOTS names the folder to write.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

import pytest

from messaging.models import Blast, ContactGroup, Message
from tests import factories
from tests.browser_tests.main_pages import logged_in_context
from tests.browser_tests.test_accessibility import DESKTOP, PHONE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("SCREENSHOTS"), reason="make screenshots"),
]

STATUSES = ["read"] * 9 + ["delivered"] * 5 + ["sent"] * 3 + ["failed"]


def _world(project, admin_user) -> dict[str, str]:
    """A project with two weeks of sends, a blast halfway, a customer chatting, a template."""
    project.name = "Toko Batik Nusantara"
    project.save()
    template = factories.TemplateFactory(project=project, name="promo_akhir_tahun")
    factories.TemplateLanguageFactory(
        template=template,
        header_type="text",
        header_text="Promo {{1}}",
        body="Halo {{1}}, diskon *30%* untuk koleksi batik baru sampai {{2}}.",
        footer="Toko Batik Nusantara",
        buttons=[
            {"type": "url", "text": "Lihat koleksi", "url": "https://batik.example/{{1}}"},
            {"type": "quick_reply", "text": "Berhenti", "payload": "stop"},
        ],
    )
    group = ContactGroup.objects.create(project=project, name="Pelanggan setia")
    contacts = []
    for n, name in enumerate(["Budi Santoso", "Siti Rahma", "Andi Wijaya", "Dewi Lestari"] * 10):
        contact = factories.ContactFactory(
            project=project, name=f"{name} {n}", phone_number=f"6281290{n:06d}"
        )
        contact.groups.add(group)
        contacts.append(contact)
    now = timezone.now()
    for day in range(14):
        for n in range(6 + (day * 7) % 11):
            factories.MessageFactory(
                project=project,
                template=template,
                template_name=template.name,
                kind=Message.Kind.HSM,
                phone_number=contacts[n % len(contacts)].phone_number,
                status=STATUSES[(n + day) % len(STATUSES)],
                created_at=now - timedelta(days=day, minutes=n),
            )
    blast = Blast.objects.create(
        project=project,
        name="Promo akhir tahun",
        template=template,
        template_name=template.name,
        language_code="id",
        group=group,
        status=Blast.Status.RUNNING,
        params={"1": {"source": "name", "value": ""}, "2": {"source": "fixed", "value": "31 Des"}},
        created_by=admin_user,
        started_at=now - timedelta(minutes=3),
        audience_count=60,
    )
    for n, contact in enumerate(contacts):
        factories.MessageFactory(
            project=project,
            blast=blast,
            contact=contact,
            template=template,
            template_name=template.name,
            kind=Message.Kind.HSM,
            phone_number=contact.phone_number,
            status=(["read", "delivered", "sent", "queued", "queued"])[n % 5],
        )
    customer = contacts[0]
    customer.last_inbound_at = now - timedelta(minutes=4)
    customer.save()
    for minutes, direction, text in (
        (9, "out", ""),
        (5, "in", "Halo, apakah batik tulis motif parang masih ada ukuran L?"),
        (4, "in", "Saya mau pesan dua."),
        (2, "out", "Masih ada, Kak Budi! Kami kirimkan tautan pembayarannya ya."),
    ):
        factories.MessageFactory(
            project=project,
            contact=customer,
            phone_number=customer.phone_number,
            direction=direction,
            kind=Message.Kind.HSM if direction == "out" and not text else Message.Kind.TEXT,
            template=template if not text else None,
            template_name=template.name if not text else "",
            status="read" if direction == "out" else "received",
            source="customer" if direction == "in" else "user",
            text=text,
            created_at=now - timedelta(minutes=minutes),
        )
    return {
        "dashboard": "/dashboard/",
        "blast": f"/blasts/{blast.pk}/",
        "chat": f"/callbacks/chat/{customer.pk}/",
        "template-editor": "/templates/new/",
    }


def _fill_editor(page) -> None:
    """Type a template as a marketer would, so the live preview shows it."""
    page.fill("input[name=name]", "promo_akhir_tahun_2")
    body = page.locator("textarea[name$=body]").first
    body.fill("Halo {{1}}, koleksi batik baru sudah tiba! Diskon *30%* sampai {{2}}.")
    footer = page.locator("input[name$=footer]").first
    if footer.count():
        footer.fill("Toko Batik Nusantara")


@pytest.mark.parametrize("language", ["en", "id"])
def test_screenshots(browser, live_server, project, admin_user, language):
    folder = Path(os.environ["SCREENSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    pages = _world(project, admin_user)
    for device, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = logged_in_context(
            browser,
            live_server,
            admin_user,
            viewport=viewport,
            locale="id-ID" if language == "id" else "en-US",
        )
        page = context.new_page()
        for name, path in pages.items():
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, path
            page.wait_for_load_state("networkidle")
            if name == "template-editor":
                _fill_editor(page)
                page.get_by_text("koleksi batik baru sudah tiba").last.wait_for()
                # The top of the page: the name, then the language with its live preview.
                page.locator("input[name=name]").blur()
                page.evaluate("window.scrollTo(0, 0)")
            target = folder / f"{name}-{device}-{language}.png"
            page.screenshot(path=str(target), full_page=device == "phone")
            assert target.stat().st_size > 10_000, target
        context.close()
