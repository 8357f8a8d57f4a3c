"""A page's forms read as a browser would post them (for tests that open a page, then post it back).

- `form_data(html, field)`: the first POST form holding `field`, one value per name.
- `form_of(response)`: the record form (class "crm-form") of a 200 or 409 page, a list of values per name.
"""

from html.parser import HTMLParser


class _Forms(HTMLParser):
    """The POST forms of a page, each as {name: [values]} the way a browser would submit it."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, list[str]]] = []
        self._form = None
        self._select = None
        self._textarea = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {}
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                self._form.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name:
            self._select, self._multiple, self._options = name, "multiple" in a, []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea = name
            self._form[name] = [""]

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select and self._form is not None:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not self._multiple and self._options:
                chosen = [self._options[0][0]]
            self._form[self._select] = chosen
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_data(html: str, field: str) -> dict:
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if field in form:
            form.pop("csrfmiddlewaretoken", None)
            return form
    raise AssertionError(f"no POST form with a {field!r} field")


class FormFields(HTMLParser):
    """The name → value pairs a browser would send for the page's record form (class "crm-form")."""

    def __init__(self):
        super().__init__()
        self.data, self._in_form, self._done = {}, False, False
        self._select = self._textarea = None

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "crm-form" in (a.get("class") or "").split() and not self._done:
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "on"))
            elif kind not in ("submit", "button"):
                self._add(name, a.get("value", ""))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data.lstrip("\n") if not self.data[self._textarea][0] else data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_of(response) -> dict:
    assert response.status_code in (200, 409), response.status_code
    parser = FormFields()
    parser.feed(response.content.decode())
    return parser.data
