"""Small display helpers for the dashboard pages. None of them touches the database."""

from django import template

register = template.Library()


@register.filter
def web_url(value: str) -> str:
    """The value when it is an http(s) URL, else '' (never a javascript: or data: link)."""
    value = (value or "").strip()
    return value if value.lower().startswith(("https://", "http://")) else ""


@register.filter
def due_class(commitment, today) -> str:
    """'overdue' for an open commitment past its due date, else ''."""
    due = getattr(commitment, "due_date", None)
    return "overdue" if due and today and due < today and commitment.is_open else ""
