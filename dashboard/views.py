from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def partner_history(request, pk):
    # Placeholder until the partner-history page lands.
    return HttpResponse(status=501)
