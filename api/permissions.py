"""Who may do what through the API: the Django model permissions the roles
carry (accounts/roles.py), for reads too.

viewer   view_*                          reads
staff    + add/change contact, engagement, commitment, gift; add partner
officer  + everything, delete included
Anonymous requests are 401; a missing permission is 403. Confidentiality is
not a permission: what a user may not see is outside their querysets, so it
is a 404 (no existence leak).
"""

from rest_framework.permissions import DjangoModelPermissions


class RolePermissions(DjangoModelPermissions):
    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }
