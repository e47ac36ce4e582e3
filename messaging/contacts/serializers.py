"""The REST API's shape of a contact."""

from __future__ import annotations

from rest_framework import serializers

from messaging.models import Contact
from wappin_portal.api import StrictInputMixin


class ContactSerializer(StrictInputMixin, serializers.ModelSerializer):
    phone_number = serializers.CharField(help_text="Any usual form; stored normalised (62812...).")
    is_opted_out = serializers.BooleanField(read_only=True)
    groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "phone_number",
            "name",
            "attributes",
            "groups",
            "last_inbound_at",
            "is_opted_out",
            "opted_out_at",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "groups",
            "last_inbound_at",
            "is_opted_out",
            "opted_out_at",
            "created_at",
        ]
