"""/partners/<id>/briefing/ and /engagements/<id>/briefing/: the printable page, or the PDF with ?format=pdf."""


from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from dashboard.briefing.pdf import render_pdf
from dashboard.briefing.selectors import engagement_briefing, partner_briefing
from diplomacy_crm.views import render_page


def _respond(request, template: str, context: dict, filename: str) -> HttpResponse:
    if request.GET.get("format") == "pdf":
        context = {**context, "pdf": True}
        html = render_to_string(template, context, request=request)
        pdf = render_pdf(html, request.build_absolute_uri("/"))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
        response["Cache-Control"] = "no-store"
        return response
    return render_page(request, template, context)


def _stylesheet_url() -> str:
    return staticfiles_storage.url("css/briefing.css")


@require_safe
@login_required
def partner_briefing_view(request, pk):
    briefing = partner_briefing(request.user, pk)
    name = slugify(briefing.partner.name)[:60] or "partner"
    return _respond(
        request,
        "dashboard/briefing_partner.html",
        {
            "briefing": briefing,
            "history": briefing.history,
            "partner": briefing.partner,
            "generated_at": briefing.generated_at,
            "stylesheet": _stylesheet_url(),
        },
        f"briefing-{name}",
    )


@require_safe
@login_required
def engagement_briefing_view(request, pk):
    briefing = engagement_briefing(request.user, pk)
    return _respond(
        request,
        "dashboard/briefing_engagement.html",
        {
            "briefing": briefing,
            "engagement": briefing.engagement,
            "generated_at": briefing.generated_at,
            "stylesheet": _stylesheet_url(),
        },
        f"briefing-engagement-{briefing.engagement.pk}",
    )
