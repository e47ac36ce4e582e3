"""factory_boy factories for every model tests create."""

from __future__ import annotations

from django.contrib.auth import get_user_model

import factory

from messaging.models import Contact, Message, OptOut
from projects.models import Integration, Membership, Project, WebhookEndpoint, WebhookEventType
from projects.webhooks.services import webhook_secret_new
from templates_app.models import ChatbotKeyword, Template, TemplateLanguage


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct horse battery")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    client_id = factory.Sequence(lambda n: f"{n + 1:04d}")
    wappin_project_id = factory.Sequence(lambda n: f"{n + 100}")
    business_number = "6281100001111"
    business_name = "Test Business"
    default_chatbot_message = "Hello! Type PROMO for today's offer."


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MARKETING


CREDENTIAL_TOKEN_FIELDS = ("access_token", "previous_access_token", "token_expires_at")


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    project = factory.SubFactory(ProjectFactory)
    kind = Integration.Kind.NOTIFICATION
    client_key = factory.Faker("sha1")
    secret_key = factory.Faker("sha1")
    ip_whitelist = factory.LazyFunction(lambda: ["127.0.0.1"])

    # The token lives on the integration's Wappin client (`WappinCredential`), shared by every
    # integration of that client id and secret key: `access_token=...` etc. are written there.
    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        tokens = {name: kwargs.pop(name) for name in CREDENTIAL_TOKEN_FIELDS if name in kwargs}
        integration = super()._create(model_class, *args, **kwargs)
        if tokens:
            credential = integration.credential
            for name, value in tokens.items():
                setattr(credential, name, value)
            credential.save()
        return integration


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Template

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"template_{n}")
    status = Template.Status.APPROVED


class TemplateLanguageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TemplateLanguage

    template = factory.SubFactory(TemplateFactory)
    language_code = "id"
    body = "Halo {{1}}, pesanan {{2}} sudah dikirim."


class ChatbotKeywordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatbotKeyword

    project = factory.SubFactory(ProjectFactory)
    template_name = "promo_reply"
    keyword = factory.Sequence(lambda n: f"keyword{n}")
    normalized_keyword = factory.LazyAttribute(lambda o: o.keyword.lower())
    response_text = "Today's promo: 20% off."


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)
    phone_number = factory.Sequence(lambda n: f"62812{n:08d}")
    name = factory.Faker("name")

    @factory.post_generation
    def _on_the_suppression_list(contact, create, extracted, **kwargs):
        """A contact made opted out is on its project's suppression list, as STOP leaves it."""
        if create and contact.opted_out_at is not None:
            OptOut.objects.get_or_create(
                project=contact.project,
                phone_number=contact.phone_number,
                defaults={"created_at": contact.opted_out_at},
            )


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    project = factory.SubFactory(ProjectFactory)
    kind = Message.Kind.TEXT
    phone_number = factory.Sequence(lambda n: f"62813{n:08d}")
    text = "Hello"


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint with every event; tests that check the secret read `endpoint.secret`."""

    class Meta:
        model = WebhookEndpoint

    project = factory.SubFactory(ProjectFactory)
    url = "https://hooks.example.com/wappin"
    event_types = factory.LazyFunction(lambda: list(WebhookEventType.values))
    secret = factory.LazyFunction(webhook_secret_new)
