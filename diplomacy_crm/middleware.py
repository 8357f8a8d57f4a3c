"""Responses about confidential records: never cached, and refusals audited.

Every page a signed-in user sees may carry restricted diplomatic notes, so a
shared proxy, the browser's back-forward cache or a disk cache must not keep
a copy (`Cache-Control: no-store, private`). A view that decides its own
caching (it set Cache-Control) is left alone.

Refusals of signed-in users (403, and 404, which is how a restricted record
the user may not see answers: no existence leak) go to the `crm.audit` log,
so that someone probing for confidential records shows up there.
"""

from .audit import log_denial


class ConfidentialResponseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # DRF copies a token-authenticated user onto the Django request too.
        signed_in = bool(user is not None and user.is_authenticated)
        if signed_in or "HTTP_AUTHORIZATION" in request.META:
            if not response.has_header("Cache-Control"):
                response["Cache-Control"] = "no-store, private"
            if response.status_code in (403, 404) and signed_in:
                log_denial(request, response.status_code)
        return response
