"""What projects does when Django's auth tells it something."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver

from projects.services import api_keys_of_creator_revoke


@receiver(post_save, sender=get_user_model())
def revoke_the_keys_of_a_deactivated_user(sender, instance, **kwargs) -> None:
    """An account switched off (in the admin, or any other way that saves it) leaves no
    API key of its making working, on any project."""
    if not instance.is_active:
        api_keys_of_creator_revoke(user=instance)
