"""Who reaches the CRM at all: the TOTP step, and the role.

TwoFactorMiddleware: sessions that still owe their TOTP step reach nothing but that step.

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
from django.template.response import TemplateResponse
from django.urls import reverse

from . import two_factor
from .access import may_use_crm


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


NO_ROLE_MESSAGE = "You have no role yet; ask an administrator to give you one."


def no_role_response(request):
    """The one answer to a signed-in user without a role: 403, no data (JSON under /api/)."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": NO_ROLE_MESSAGE}, status=403)
    return TemplateResponse(request, "accounts/no_role.html", {"message": NO_ROLE_MESSAGE}, status=403).render()


class RoleRequiredMiddleware:
    """A signed-in user with no role (and not a superuser) reaches nothing but signing in and out.

    Checked on every request (`accounts.access.may_use_crm`), so removing a
    user's role ends their access at their next request, whatever session
    they hold. Deactivated users are already anonymous here (Django's
    backend refuses them), and API tokens are judged inside DRF
    (`accounts.permissions.HasRole`), because DRF authenticates the token
    after the middleware has run. Exempt: login, logout, password change,
    /healthz and static files.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt = None

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not may_use_crm(user) and not self._is_exempt(request):
            if not (request.path_info.startswith("/api/") and "HTTP_AUTHORIZATION" in request.META):
                return no_role_response(request)
            # A token in the header decides who the caller is: DRF's HasRole judges that user.
        return self.get_response(request)

    def _is_exempt(self, request) -> bool:
        if self._exempt is None:
            names = ("login", "logout", "password_change", "password_change_done", "healthz")
            self._exempt = frozenset(reverse(name) for name in names)
        path = request.path_info
        return path in self._exempt or path.startswith(settings.STATIC_URL)
