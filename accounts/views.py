from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .forms import PreferencesForm
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
    feed_url = f"{settings.SITE_URL}/calendar.ics?token={profile.calendar_token}"
    return render(request, "accounts/preferences.html", {"form": form, "profile": profile, "feed_url": feed_url})
