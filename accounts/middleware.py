"""Sessions that still owe their TOTP step reach nothing but that step.

A user with a TOTP device who gave only the password is signed in (Django's
session) but not verified (django-otp's `user.is_verified()`). Until they
are, every page redirects to the code step, and every API call made with the
session gets 403. An API call carrying `Authorization: Token ...` is judged
by its token alone, as if the half-signed-in session were not there.
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.urls import reverse

from . import two_factor


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Most sessions never owe a step: one dict lookup, no query.
        state = request.session.get(two_factor.SESSION_KEY) if hasattr(request, "session") else None
        if state:
            refusal = self._refuse(request, state)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refuse(self, request, state):
        if two_factor.step_owed(request) is None:
            return None
        step = reverse("accounts:login-verify") if state == two_factor.VERIFY else reverse("accounts:totp-add")
        path = request.path_info
        if path in (step, reverse("login"), reverse("logout"), reverse("healthz")) or path.startswith(settings.STATIC_URL):
            return None
        if path.startswith("/api/"):
            if "HTTP_AUTHORIZATION" in request.META:
                request.user = AnonymousUser()  # DRF's session authentication then steps aside for the token
                return None
            return JsonResponse(
                {"detail": "Two-factor sign-in is not finished: enter your code at " + step}, status=403
            )
        return redirect_to_login(request.get_full_path(), step)
