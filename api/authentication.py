"""Token authentication that looks up only well-formed keys.

DRF's keys are 40 lowercase hex digits. Anything else is refused before the
database sees it: a NUL byte in the header would otherwise reach PostgreSQL
(which refuses it: a 500), and garbage costs no query.
"""

import re

from rest_framework import authentication, exceptions

TOKEN_KEY = re.compile(r"[0-9a-f]{40}")


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        if not TOKEN_KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)
