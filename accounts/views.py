from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from diplomacy_crm.links import site_url

from . import two_factor
from .forms import PreferencesForm, TokenForm
from .models import Profile


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """The user's own preferences: the weekly digest, reminder lead time, calendar feed token."""
    profile, _ = Profile.objects.get_or_create(user=request.user)
    form = PreferencesForm(instance=profile)
    if request.method == "POST":
        if "rotate_token" in request.POST:
            profile.rotate_calendar_token()
            messages.success(request, "Your calendar feed has a new address; the old one no longer works.")
            return redirect("accounts:preferences")
        form = PreferencesForm(request.POST, instance=profile)
        if form.is_valid():
            form.save()
            messages.success(request, "Your preferences are saved.")
            return redirect("accounts:preferences")
    return _preferences_page(request, profile, form=form)


def _preferences_page(request, profile, *, form=None, remove_form=None, status=200):
    feed_url = site_url(f"/calendar.ics?token={profile.calendar_token}")
    return render(request, "accounts/preferences.html", {
        "form": form or PreferencesForm(instance=profile),
        "profile": profile,
        "feed_url": feed_url,
        "totp_device": two_factor.device_of(request.user),
        "remove_form": remove_form or TokenForm(),
    }, status=status)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def login_verify(request):
    """The second step of signing in, for users with a TOTP device: the 6-digit code."""
    next_url = _next_url(request)
    if two_factor.step_owed(request) != two_factor.VERIFY:
        return redirect(next_url)  # nothing owed here (or the enrol step is, and the middleware sends them there)
    device = two_factor.device_of(request.user)
    if device is None:  # removed (by an administrator) since this sign-in
        request.session.pop(two_factor.SESSION_KEY, None)
        return redirect(next_url)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            two_factor.verify_sign_in(request, device, form.cleaned_data["token"])
        except two_factor.Refused as exc:
            if getattr(request, "axes_locked_out", False):
                logout(request)  # django-axes answers with its lock-out page
                return redirect("login")
            form.add_error("token", str(exc))
        else:
            return redirect(next_url)
    return render(request, "registration/login_verify.html", {"form": form, "next": next_url})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def totp_add(request):
    """Enrol an authenticator app: scan the code (or type the secret), then confirm with a code."""
    if two_factor.device_of(request.user) is not None:
        messages.info(request, "Two-factor sign-in is already on. Remove the current app first to enrol another.")
        return redirect("accounts:preferences")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.confirm_enrolment(request, form.cleaned_data["token"]):
            messages.success(request, "Two-factor sign-in is on: from now on, signing in asks for a code from your app.")
            return redirect("accounts:preferences")
        form.add_error("token", "That code does not match. Check the app's clock and enter the code it shows now.")
    enrolment = two_factor.pending_enrolment(request)
    required = request.session.get(two_factor.SESSION_KEY) == two_factor.ENROL
    return render(request, "accounts/totp_add.html", {"form": form, "enrolment": enrolment, "required": required})


@never_cache
@login_required
@require_POST
def totp_remove(request):
    """Turn two-factor sign-in off, with a current code from the app."""
    device = two_factor.device_of(request.user)
    if device is None:
        messages.info(request, "Two-factor sign-in is not on.")
        return redirect("accounts:preferences")
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            two_factor.remove_device(request, device, form.cleaned_data["token"])
        except two_factor.Refused as exc:
            form.add_error("token", str(exc))
        else:
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("accounts:preferences")
    profile, _ = Profile.objects.get_or_create(user=request.user)
    return _preferences_page(request, profile, remove_form=form)
