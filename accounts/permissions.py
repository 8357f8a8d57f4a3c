"""DRF's half of "a role is required": the user a token names is known only inside DRF.

`RoleRequiredMiddleware` refuses session users without a role before any
view; an `Authorization: Token ...` request is authenticated by DRF after
the middleware, so every API view also asks `HasRole` first.
"""

from rest_framework.permissions import BasePermission

from .access import may_use_crm
from .middleware import NO_ROLE_MESSAGE


class HasRole(BasePermission):
    """Signed-in users need a role (or to be a superuser); anonymous requests are left to the next check (401)."""

    message = NO_ROLE_MESSAGE

    def has_permission(self, request, view):
        user = request.user
        return not (user and user.is_authenticated) or may_use_crm(user)
