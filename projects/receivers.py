"""What projects does when Django's auth tells it something."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from projects.models import AuthenticatorDevice
from projects.services import api_keys_of_creator_revoke
from projects.two_factor.selectors import two_factor_enrolled_cache_key


@receiver(post_save, sender=get_user_model())
def revoke_the_keys_of_a_deactivated_user(sender, instance, **kwargs) -> None:
    """An account switched off (in the admin, or any other way that saves it) leaves no
    API key of its making working, on any project."""
    if not instance.is_active:
        api_keys_of_creator_revoke(user=instance)


@receiver(post_save, sender=AuthenticatorDevice)
@receiver(post_delete, sender=AuthenticatorDevice)
def forget_whether_the_user_is_enrolled(sender, instance, **kwargs) -> None:
    """Two-factor set up or turned off: the middleware's cached answer is stale (now, and
    after the commit, so that no request caches the old rows in between)."""
    key = two_factor_enrolled_cache_key(instance.user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
