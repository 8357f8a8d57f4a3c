"""Error pages: HTML for the site, JSON under /api/ (a client of the API never parses an HTML page).

DRF answers its own errors in JSON (api/exceptions.py); these handlers catch
what reaches Django's handlers instead: an exception DRF does not handle (a
database or cache outage, a bug) becomes a JSON 500, and a URL under /api/
that matches no route a JSON 404.
"""

from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if _is_api(request):
        return JsonResponse(
            {"detail": "A server error occurred; nothing more is known here. The team has been told."}, status=500
        )
    return defaults.server_error(request, template_name)


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception, template_name)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return defaults.permission_denied(request, exception, template_name)
