"""Country names, name keys, titles in names and date-times, as the real files write them."""

import datetime as dt

import pytest

from imports.importer import parse_choice, parse_datetime, split_titles
from imports.text import country_code, loose_key, name_key
from partners.models import Partner


@pytest.mark.parametrize(
    "text,code",
    [
        ("VN", "VN"), ("vn", "VN"), ("VNM", "VN"), ("Viet Nam", "VN"), ("Vietnam", "VN"),
        ("South Korea", "KR"), ("Korea, Republic of", "KR"), ("Korea, South", "KR"), ("Korea", "KR"),
        ("Korea, North", "KP"), ("United States of America", "US"), ("People's Republic of China", "CN"),
        ("China, People’s Republic of", "CN"), ("Republic of China", "TW"), ("Burma (Myanmar)", "MM"),
        ("Upper Volta (Burkina Faso)", "BF"), ("Sao Tomé and Príncipe", "ST"), ("Cote d’Ivoire", "CI"),
        ("The Gambia", "GM"), ("Kingdom of the Netherlands", "NL"), ("Germany, Federal Republic of", "DE"),
        ("United Kingdom (Wales)", "GB"), ("Holy See", "VA"), ("Kosovo", "XK"),
        # Former countries (ISO 3166-3) by code and by name, as django-countries lists them (diplomacy_crm.country_codes).
        ("SU", "SU"), ("U.S.S.R.", "SU"), ("Yugoslavia", "YU"), ("yugoslavia", "YU"), ("Czechoslovakia", "CS"),
        ("German Democratic Republic", "DD"), ("DDR", "DD"), ("Yugoslavia (Kosovo)", "YU"), ("XK", "XK"),
    ],
)
def test_country_names_in_the_real_files_resolve(text, code):
    assert country_code(text) == code


@pytest.mark.parametrize("text", ["Prussia", "Austria-Hungary", "Atlantis", "", "ZZ"])
def test_historical_or_unknown_countries_do_not_resolve(text):
    assert country_code(text) is None


def test_name_keys_ignore_case_accents_and_spacing():
    assert name_key("  São   Paulo ") == name_key("sao paulo") == "sao paulo"
    assert loose_key("City of São Paulo") == "sao paulo"


@pytest.mark.parametrize(
    "full,expected",
    [
        ("Prime Minister Kyriakos Mitsotakis", ("", "Prime Minister", "Kyriakos Mitsotakis")),
        ("King Juan Carlos I", ("", "King", "Juan Carlos I")),
        ("H.E. Ambassador Awang Adek Hussin", ("H.E.", "Ambassador", "Awang Adek Hussin")),
        ("Interim President Juan Guaidó", ("", "Interim President", "Juan Guaidó")),
        ("Kingsley Amis", ("", "", "Kingsley Amis")),
        ("President", ("", "", "President")),
    ],
)
def test_titles_embedded_in_names_are_split(full, expected):
    assert split_titles(full) == expected


def test_a_local_time_is_read_in_the_office_zone(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    value = parse_datetime("2025-07-01T10:00")
    assert value.utcoffset() == dt.timedelta(hours=-7)


def test_an_offset_is_kept_as_given():
    value = parse_datetime("2014-09-04T08:30:00-04:00")
    assert value.utcoffset() == dt.timedelta(hours=-4)


def test_a_time_in_the_spring_forward_gap_is_an_error(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    with pytest.raises(ValueError, match="does not exist"):
        parse_datetime("2025-03-09T02:30")


def test_an_ambiguous_autumn_time_is_read_as_the_first(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    assert parse_datetime("2025-11-02T01:30").utcoffset() == dt.timedelta(hours=-7)


@pytest.mark.parametrize("text", ["2025-02-30", "0000-01-01T00:00", "10000-01-01", "next tuesday", "1e309"])
def test_impossible_dates_are_errors(text):
    with pytest.raises(ValueError):
        parse_datetime(text)


def test_choices_accept_values_and_labels():
    assert parse_choice("Diplomatic mission", Partner.Kind.choices) == "diplomatic_mission"
    assert parse_choice("diplomatic_mission", Partner.Kind.choices) == "diplomatic_mission"
    with pytest.raises(ValueError, match="is not one of"):
        parse_choice("embassy", Partner.Kind.choices)
