"""What the top layer's views share."""


def _page_number(request) -> int:
    try:
        return int(request.GET.get("page", "1"))
    except ValueError:
        return 1


def _load_permissions(user) -> bool:
    """Fill the user's permission cache now, so the layout's `perms` checks cost no query while rendering.

    Returns whether the user may edit partners, which the history page needs anyway.
    """
    return user.has_perm("partners.change_partner")
