"""Fast select rendering (same HTML as Django's templates) and the capped paginator (no full COUNT(*))."""

import copy

import pytest
from django import forms
from django.core.paginator import EmptyPage, Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from diplomacy_crm import paginator as paginator_module
from diplomacy_crm.paginator import CappedPaginator, page_numbers
from diplomacy_crm.templatetags import crm as crm_tags
from diplomacy_crm.templatetags.crm import field as field_tag
from diplomacy_crm.widgets import FastSelect, FastSelectMultiple, SharedChoices, fast_widget, render_select
from partners.forms import LookupSelect
from partners.models import Partner, Topic
from tests.factories import PartnerFactory, TopicFactory

XSS = '<script>alert("x")</script>'

CHOICES = [
    ("", "---------"),
    ("a&b", XSS),
    ("q\"uote", "Côte d’Ivoire & <Co>"),
    (7, 7),
    ("Group <1>", [("g1", "One"), ("g2", gettext_lazy("Two"))]),
    ("safe", mark_safe("<em>trusted</em>")),  # nosec B308, B703: a constant
]


@pytest.mark.parametrize(
    "value,attrs",
    [
        (None, None),
        ("a&b", {"id": "id_pick"}),
        ("g2", {"id": "id_pick", "required": True, "disabled": False, "aria-describedby": "h e", "class": 'x "y"'}),
        ("7", {"data-typeahead": ""}),
    ],
)
def test_fast_select_renders_exactly_what_django_renders(value, attrs):
    expected = forms.Select(choices=CHOICES).render("pick", value, attrs=attrs)
    assert FastSelect(choices=CHOICES).render("pick", value, attrs=attrs) == expected


def test_fast_select_multiple_renders_exactly_what_django_renders():
    value = ["a&b", "g1", "7"]
    expected = forms.SelectMultiple(choices=CHOICES).render("pick", value, attrs={"id": "id_pick"})
    html = FastSelectMultiple(choices=CHOICES).render("pick", value, attrs={"id": "id_pick"})
    assert html == expected
    assert " multiple>" in html and html.count(" selected>") == 3


def test_labels_and_values_are_escaped_and_the_chosen_value_is_selected():
    html = FastSelect(choices=CHOICES).render("pick", "a&b")
    assert "<script>" not in html
    assert '<option value="a&amp;b" selected>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</option>' in html
    assert '<option value="q&quot;uote">Côte d’Ivoire &amp; &lt;Co&gt;</option>' in html
    assert '<optgroup label="Group &lt;1&gt;">' in html
    assert "<em>trusted</em>" in html  # a label marked safe stays as it is, as in Django
    assert html.count(" selected") == 1


def test_a_widget_with_its_own_templates_is_left_to_django():
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    assert fast_widget(Custom(choices=CHOICES)) is None
    assert fast_widget(forms.RadioSelect(choices=CHOICES)) is None
    assert fast_widget(forms.TextInput()) is None
    assert fast_widget(forms.Select(choices=CHOICES)) is not None


class PickForm(forms.Form):
    country = forms.ChoiceField(choices=[("", "Any")] + [(f"C{i}", f"Country <{i}>") for i in range(250)], help_text="Pick one")
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")], required=False)


@pytest.mark.parametrize("data", [{}, {"country": "C42", "many": ["y"]}, {"country": "nope"}])
def test_the_field_tag_renders_a_stock_select_like_django_with_label_hint_and_error_ids(data, monkeypatch):
    form = PickForm(data or None)
    form.is_valid()
    fast = {name: field_tag(form[name])["widget"] for name in ("country", "many")}
    monkeypatch.setattr(crm_tags, "fast_widget", lambda widget, renderer=None: None)  # Django's own templates
    assert fast == {name: field_tag(form[name])["widget"] for name in ("country", "many")}
    country = fast["country"]
    assert 'id="id_country"' in country and 'aria-describedby="id_country-hint' in country
    if data.get("country") == "C42":
        assert '<option value="C42" selected>Country &lt;42&gt;</option>' in country
    if data.get("country") == "nope":
        assert 'aria-invalid="true"' in country and "usa-input--error" in country


@pytest.mark.django_db
def test_a_type_ahead_keeps_rendering_only_the_chosen_options():
    chosen, other = PartnerFactory(name="Chosen <partner>"), PartnerFactory(name="Other partner")
    widget = LookupSelect("/lookup/")
    widget.choices = forms.ModelChoiceField(queryset=Partner.objects.all()).choices
    widget.choices.field.widget = widget
    widget.chosen_objects = [chosen]
    expected = forms.Select.render(widget, "partner", str(chosen.pk), attrs={"id": "id_partner"})
    html = render_select(widget, "partner", str(chosen.pk), attrs={"id": "id_partner"})
    assert html == expected
    assert "Chosen &lt;partner&gt;" in html and other.name not in html and 'data-lookup-url="/lookup/"' in html


def test_shared_choices_are_not_copied_per_form():
    choices = SharedChoices([("a", "A")])
    assert copy.deepcopy(choices) is choices


@pytest.mark.django_db
def test_country_filter_renders_every_country_with_the_chosen_one_selected(client_for, officer):  # noqa: F811
    PartnerFactory(name="Ayuntamiento de Guadalajara", country="MX")
    body = client_for(officer).get("/partners/?country=MX").content.decode()
    assert '<label class="usa-label" for="id_country">Country</label>' in body
    assert '<option value="MX" selected>Mexico</option>' in body
    assert body.count("<option") > 240 and body.count(" selected>") >= 1


# --- The capped paginator --------------------------------------------------------------------------


@pytest.fixture
def topics(db):
    return [TopicFactory(name=f"Topic {i:03}", slug=f"t-{i:03}") for i in range(23)]


def count_queries(qs_fn):
    with CaptureQueriesContext(connection) as ctx:
        result = qs_fn()
    return result, [q["sql"] for q in ctx.captured_queries]


def test_under_the_cap_it_is_django_s_paginator(topics):
    qs = Topic.objects.order_by("name")
    capped, exact = CappedPaginator(qs, 5, cap=100), Paginator(qs, 5)
    (count, sqls) = count_queries(lambda: capped.count)
    assert count == exact.count == 23 and not capped.count_capped
    assert len(sqls) == 1 and "LIMIT 101" in sqls[0] and "ORDER BY" not in sqls[0]
    assert capped.num_pages == 5
    last = capped.page(5)
    assert [t.name for t in last] == [t.name for t in exact.page(5)]
    assert (last.start_index(), last.end_index(), last.has_next()) == (21, 23, False)
    assert list(capped.get_elided_page_range(1, on_each_side=1, on_ends=1)) == list(exact.get_elided_page_range(1, on_each_side=1, on_ends=1))
    with pytest.raises(EmptyPage):
        capped.page(6)
    assert capped.get_page(99).number == 5 and capped.get_page("abc").number == 1


def test_over_the_cap_it_counts_to_the_cap_and_next_keeps_working(topics):
    qs = Topic.objects.order_by("name")
    p = CappedPaginator(qs, 5, cap=8)  # rounded up to whole pages: 10
    assert (p.cap, p.count, p.count_capped, p.num_pages) == (10, 10, True, 2)
    second = p.page(2)
    assert second.has_next() and second.end_index() == 10
    (third, sqls) = count_queries(lambda: p.page(3))
    assert len(sqls) == 1  # one read, no count
    assert [t.name for t in third] == [f"Topic {i:03}" for i in range(10, 15)]
    assert third.has_next() and (third.start_index(), third.end_index()) == (11, 15)
    assert third.next_page_number() == 4
    last = p.page(5)
    assert [t.name for t in last] == ["Topic 020", "Topic 021", "Topic 022"]
    assert not last.has_next() and last.end_index() == 23
    with pytest.raises(EmptyPage):
        p.page(6)
    assert p.get_page(6).number == 2  # past the end: the last numbered page, as Django's gives the last page
    with pytest.raises(EmptyPage):
        p.page(10**30)  # no bigint OFFSET


def test_page_links_of_a_capped_list_end_with_a_gap_not_a_last_page(topics):
    p = CappedPaginator(Topic.objects.order_by("name"), 2, cap=10)  # 5 numbered pages
    ellipsis = p.ELLIPSIS
    assert list(page_numbers(p.page(1), on_each_side=2, on_ends=1)) == [1, 2, 3, ellipsis]
    assert list(page_numbers(p.page(5), on_each_side=2, on_ends=1)) == [1, 2, 3, 4, 5, 6, ellipsis]  # 7 may not exist
    assert list(page_numbers(p.page(7), on_each_side=2, on_ends=1)) == [1, ellipsis, 5, 6, 7, 8, ellipsis]
    assert list(page_numbers(p.page(12), on_each_side=2, on_ends=1)) == [1, ellipsis, 10, 11, 12]  # the last page


def test_a_capped_list_page_says_more_than_and_pages_past_the_cap(client_for, officer, monkeypatch):  # noqa: F811
    monkeypatch.setattr(paginator_module, "COUNT_CAP", 50)
    for i in range(60):
        PartnerFactory(name=f"Sister city {i:02}", country="MX")
    client = client_for(officer)
    first = client.get("/partners/?country=MX&ordering=name").content.decode()
    assert "Showing 1–25 of <strong>50+</strong>" in first
    assert 'aria-label="Page 3"' in first and 'aria-label="Next page"' in first
    third = client.get("/partners/?country=MX&ordering=name&page=3").content.decode()
    assert "Showing 51–60 of <strong>50+</strong>" in third
    assert third.count('data-label="Name"') == 10 and "Sister city 59" in third
    assert 'aria-label="Next page"' not in third and 'aria-label="Previous page"' in third
    beyond = client.get("/partners/?country=MX&ordering=name&page=9")
    assert beyond.status_code == 200 and "Showing 26–50 of" in beyond.content.decode()
    csv_rows = b"".join(client.get("/partners/?country=MX&format=csv").streaming_content).decode().splitlines()
    assert len(csv_rows) == 61  # the export is not capped: header + every row


def test_a_capped_list_costs_the_same_queries_as_a_small_one(client_for, officer, monkeypatch):  # noqa: F811
    client = client_for(officer)
    for i in range(30):
        PartnerFactory(name=f"Partner {i:02}", country="MX")
    client.get("/partners/")
    with CaptureQueriesContext(connection) as exact:
        client.get("/partners/?page=2")
    monkeypatch.setattr(paginator_module, "COUNT_CAP", 25)
    with CaptureQueriesContext(connection) as capped:
        body = client.get("/partners/?page=2").content.decode()
    assert "of <strong>25+</strong>" in body
    assert len(capped.captured_queries) == len(exact.captured_queries)


def test_the_api_count_is_capped_and_next_leads_to_the_last_page(client, officer, monkeypatch):
    monkeypatch.setattr(paginator_module, "COUNT_CAP", 50)
    for i in range(60):
        TopicFactory(name=f"Topic {i:03}", slug=f"t-{i:03}")
    client.force_login(officer)
    body = client.get("/api/v1/topics/").json()
    assert body["count"] == 50 and len(body["results"]) == 25 and body["next"].endswith("page=2")
    body = client.get("/api/v1/topics/?page=3").json()
    assert body["count"] == 50 and len(body["results"]) == 10 and body["next"] is None
    assert body["previous"].endswith("page=2")
    assert client.get("/api/v1/topics/?page=4").status_code == 404
