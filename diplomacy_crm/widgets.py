"""Select widgets rendered in one pass of string building instead of one template per <option>.

Django renders a `<select>` through `select.html`, which includes
`select_option.html` once per option: for the ~250 countries of a filter form
that is most of a list page's time. `render_select()` produces the same HTML,
byte for byte and escaped the same way, straight from the widget's context
(`get_context()` and therefore `optgroups()` run as usual, so subclasses that
narrow the options, like the type-ahead widgets, keep their behaviour).

Used by `FastSelect` / `FastSelectMultiple`, and by the `{% field %}` tag for
any plain Select or SelectMultiple (see `fast_widget()`), so every form
rendered through that tag gets the fast path without changing its widgets.
"""

from html import escape as html_escape

from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"

# What `{{ x }}` in a template does to a value that is not a plain string
# (localisation of numbers and dates, escaping).
_VALUE_CONTEXT = Context(autoescape=True)


def _text(value) -> str:
    """`{{ value }}` with autoescaping, as the widget templates print labels and group names."""
    if isinstance(value, str):
        return conditional_escape(value)
    return render_value_in_context(value, _VALUE_CONTEXT)


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}` with autoescaping, as the templates print values and attributes."""
    if not isinstance(value, SafeData):
        value = str(value)
    return conditional_escape(value)


def render_attrs(attrs: dict) -> str:
    """Django's `attrs.html`: ` name="value"`, a bare ` name` for True, nothing for False."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{_formatted(value)}"')
    return "".join(parts)


def _renders_like_django(widget, renderer) -> bool:
    """True when Django would render `widget` with the stock select templates (so ours is equivalent)."""
    if not isinstance(widget, forms.Select):
        return False
    if widget.template_name != SELECT_TEMPLATE or widget.option_template_name != OPTION_TEMPLATE:
        return False
    # A project renderer (TemplatesSetting, Jinja2) may override the templates: leave those to Django.
    return type(renderer or get_default_renderer()) is DjangoTemplates


def render_select(widget, name, value, attrs=None) -> str:
    """The HTML Django's select.html + select_option.html would produce for `widget`, in one pass."""
    context = widget.get_context(name, value, attrs)["widget"]
    out = [f'<select name="{_text(context["name"])}"{render_attrs(context["attrs"])}>']
    for group_name, group_choices, _index in context["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION_TEMPLATE:
                return None  # an option template of its own: let Django render the whole widget
            value, label, option_attrs = option["value"], option["label"], option["attrs"]
            # Plain strings (nearly every option) take the short way: Django's escape() is html.escape().
            value = html_escape(value) if type(value) is str else _formatted(value)
            label = html_escape(label) if type(label) is str else _text(label)
            out.append(f'\n  <option value="{value}"{render_attrs(option_attrs) if option_attrs else ""}>{label}</option>\n')
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return mark_safe("".join(out))  # nosec B308, B703: every piece above is escaped


class SharedChoices(list):
    """A choice list that forms share instead of copying.

    Every FilterSet and form instance deep-copies its fields, and a
    ChoiceField deep-copies its choices: for ~250 countries (named tuples)
    that was ~15 ms a request. The list is never changed in place (fields
    replace their choices), so one copy for the process is enough.
    """

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


class FastSelectMixin:
    """Render through `render_select()` when that is equivalent to Django's templates."""

    def render(self, name, value, attrs=None, renderer=None):
        if _renders_like_django(self, renderer):
            html = render_select(self, name, value, attrs)
            if html is not None:
                return html
        return super().render(name, value, attrs=attrs, renderer=renderer)


class FastSelect(FastSelectMixin, forms.Select):
    """A Select for long choice lists (countries): same HTML, a fraction of the rendering time."""


class FastSelectMultiple(FastSelectMixin, forms.SelectMultiple):
    """A SelectMultiple for long choice lists: same HTML, a fraction of the rendering time."""


class _FastRendering:
    """Stands in for a form's own Select widget during one `BoundField.as_widget()` call.

    Everything but `render()` is the wrapped widget's (attributes, `optgroups()`,
    `use_required_attribute()`), so the output is what that widget would render.
    """

    def __init__(self, widget):
        object.__setattr__(self, "_widget", widget)

    def __getattr__(self, name):
        return getattr(self._widget, name)

    def __setattr__(self, name, value):
        setattr(self._widget, name, value)

    def render(self, name, value, attrs=None, renderer=None):
        html = render_select(self._widget, name, value, attrs)
        if html is None:
            return self._widget.render(name, value, attrs=attrs, renderer=renderer)
        return html


def fast_widget(widget, renderer=None):
    """The widget to hand `BoundField.as_widget()`: a fast stand-in for a stock Select, else None."""
    if isinstance(widget, FastSelectMixin):
        return None  # renders itself fast already
    if type(widget).render is not forms.Widget.render or type(widget)._render is not forms.Widget._render:
        return None  # a widget that renders in its own way
    if not _renders_like_django(widget, renderer):
        return None
    return _FastRendering(widget)


class PickerMixin:
    """The type-ahead picker (static/js/picker.js) on a select whose options are all in the page.

    Renders a plain `<select data-typeahead>` (fast, as FastSelect), so the
    form works without JavaScript; picker.js turns it into a text box with
    matches (accents and case folded) and chips for what is chosen. For a list
    too long to put in the page, use partners.forms.LookupSelect /
    LookupSelectMultiple, which add `data-lookup-url` (a JSON endpoint
    answering `?q=` with `{"results": [{"id", "text"}]}`).
    """

    def __init__(self, attrs=None, **kwargs):
        super().__init__(attrs={"data-typeahead": "", **(attrs or {})}, **kwargs)


class PickerSelect(PickerMixin, FastSelect):
    """One choice, typed for (owners, countries, missions in a filter)."""


class PickerSelectMultiple(PickerMixin, FastSelectMultiple):
    """Several choices, typed for, shown as removable chips."""
