from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import two_factor
from .models import Profile


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def create_profile(sender, instance, created, raw=False, **kwargs):
    """Every user has preferences from the start (defaults: digest on, 7 days)."""
    if created and not raw:
        Profile.objects.get_or_create(user=instance)


@receiver(user_logged_in, dispatch_uid="accounts.two_factor_step")
def owe_two_factor_step(sender, request, user, **kwargs):
    """A sign-in of a user with a TOTP device is not finished until the code step (see two_factor)."""
    if request is None or not hasattr(request, "session"):
        return
    step = two_factor.step_owed_at_login(user)
    if step:
        request.session[two_factor.SESSION_KEY] = step
    else:
        request.session.pop(two_factor.SESSION_KEY, None)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.revoke_tokens_on_password_change")
def revoke_api_tokens_on_password_change(sender, instance, created, raw=False, **kwargs):
    """A new password revokes the user's API token, wherever it was set.

    `set_password()` leaves the new password in `_password` until the save
    that stores it (Django then calls the validators' `password_changed`):
    the password change page, the back office, `changepassword` all pass here.
    The user makes a new token with `create_api_token`.
    """
    if raw or created or getattr(instance, "_password", None) is None:
        return
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user=instance).delete()
