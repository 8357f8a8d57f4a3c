"""What seed_bench draws from: base counts, word lists, weights, the Zipf helper, and the COPY writer."""

import datetime as dt
import itertools
from decimal import Decimal

from django.db import connection

from accounts.roles import OFFICER, STAFF, VIEWER

BENCH_PASSWORD = "bench-password-2028"  # every seeded user's

BASE = {
    "partners": 10_000,
    "contacts": 50_000,
    "engagements": 200_000,
    "commitments": 100_000,
    "agreements": 2_000,
    "users": 100,
    "missions": 150,
    "gifts": 3_000,
}
# Role mix of the users: 1 superuser, then these shares.
ROLE_SHARES = ((OFFICER, 0.12), (STAFF, 0.58), (VIEWER, 0.30))

TOPICS = [
    "Climate and clean energy", "Trade and investment", "Transportation", "Tourism", "Major events",
    "Public health", "Gender equity", "Human rights", "Culture", "Education", "Technology", "Migration",
    "Water", "Housing", "Ports and logistics", "Aviation", "Film and media", "Sister cities", "Public safety",
    "Disaster resilience", "Urban planning", "Food security", "Sport", "Digital government",
]

# (ISO code, weight): the office's real mix is lopsided, so is this.
COUNTRY_WEIGHTS = [
    ("MX", 10), ("JP", 8), ("KR", 6), ("CN", 6), ("US", 6), ("GB", 5), ("FR", 5), ("DE", 5), ("CA", 5),
    ("VN", 4), ("PH", 4), ("IN", 4), ("SV", 3), ("GT", 3), ("AM", 3), ("IL", 3), ("IT", 3), ("ES", 3),
    ("BR", 3), ("AU", 3), ("TW", 3), ("IE", 2), ("NL", 2), ("SE", 2), ("NG", 2), ("KE", 2), ("ET", 2),
    ("ZA", 2), ("EG", 2), ("AE", 2), ("SA", 2), ("TH", 2), ("ID", 2), ("SG", 2), ("NZ", 2), ("AR", 2),
    ("CL", 2), ("CO", 2), ("PE", 2), ("UA", 2), ("PL", 2), ("GR", 1), ("PT", 1), ("CH", 1), ("AT", 1),
    ("BE", 1), ("DK", 1), ("FI", 1), ("NO", 1), ("TR", 1), ("PK", 1), ("BD", 1), ("LK", 1), ("MN", 1),
    ("KH", 1), ("GH", 1), ("SN", 1), ("SL", 1), ("JM", 1), ("HN", 1),
]
CAPITALS = {
    "MX": "Mexico City", "JP": "Tokyo", "KR": "Seoul", "CN": "Beijing", "US": "Washington", "GB": "London",
    "FR": "Paris", "DE": "Berlin", "CA": "Ottawa", "VN": "Hanoi", "PH": "Manila", "IN": "New Delhi",
    "SV": "San Salvador", "GT": "Guatemala City", "AM": "Yerevan", "IL": "Jerusalem", "IT": "Rome",
    "ES": "Madrid", "BR": "Brasília", "AU": "Canberra", "TW": "Taipei", "IE": "Dublin", "NL": "Amsterdam",
    "SE": "Stockholm", "NG": "Abuja", "KE": "Nairobi", "ET": "Addis Ababa", "ZA": "Pretoria", "EG": "Cairo",
    "AE": "Abu Dhabi", "SA": "Riyadh", "TH": "Bangkok", "ID": "Jakarta", "SG": "Singapore", "NZ": "Wellington",
    "AR": "Buenos Aires", "CL": "Santiago", "CO": "Bogotá", "PE": "Lima", "UA": "Kyiv", "PL": "Warsaw",
    "GR": "Athens", "PT": "Lisbon", "CH": "Bern", "AT": "Vienna", "BE": "Brussels", "DK": "Copenhagen",
    "FI": "Helsinki", "NO": "Oslo", "TR": "Ankara", "PK": "Islamabad", "BD": "Dhaka", "LK": "Colombo",
    "MN": "Ulaanbaatar", "KH": "Phnom Penh", "GH": "Accra", "SN": "Dakar", "SL": "Freetown", "JM": "Kingston",
    "HN": "Tegucigalpa",
}
PARTNER_KINDS = [
    ("city", 22), ("company", 20), ("national_government", 10), ("subnational_government", 8),
    ("diplomatic_mission", 8), ("academic", 8), ("civil_society", 8), ("diaspora", 5),
    ("international_organization", 4), ("city_network", 2), ("religious", 2), ("other", 3),
]
ENGAGEMENT_KINDS = [
    ("bilateral_meeting", 30), ("call", 25), ("visit_received", 12), ("visit_abroad", 5),
    ("multilateral_forum", 6), ("event", 10), ("correspondence", 12),
]
SYLLABLES = [
    "ka", "na", "mi", "to", "ra", "lo", "be", "sa", "ri", "do", "va", "len", "mar", "tor", "zan", "kel",
    "por", "sen", "da", "hu", "yo", "shi", "an", "el", "or", "ul", "bri", "ste", "gan", "lis", "mon", "ter",
]
PORTFOLIOS = [
    "Foreign Affairs", "Trade", "Economy", "Transport", "Environment", "Culture", "Health", "Education",
    "Tourism", "Energy", "Interior", "Science and Technology",
]
INDUSTRIES = ["Logistics", "Energy", "Biotech", "Aerospace", "Media", "Software", "Mobility", "Foods", "Textiles"]
FIRST_NAMES = [
    "Ana", "Hiroshi", "Min-jun", "Wei", "Olivia", "Thomas", "Claire", "Lucía", "Nguyen", "Priya", "Amir", "Yuki",
    "Sofia", "Mateo", "Aarav", "Fatima", "Chen", "Elena", "Kwame", "Ingrid", "Tariq", "Marisol", "Jonas", "Aiko",
]
LAST_NAMES = [
    "Tanaka", "Kim", "Wang", "Hernández", "Dubois", "Müller", "García", "Tran", "Shah", "Haddad", "Sato", "Rossi",
    "Silva", "Okafor", "Nielsen", "Petrov", "Khan", "López", "Park", "Li", "Moreau", "Cohen", "Mensah", "Costa",
]
HONORIFICS = ["", "", "Mr.", "Ms.", "Dr.", "H.E.", "The Hon.", "Mayor", "Prof."]
TITLES = [
    "Consul General", "Deputy Mayor", "Director-General", "Minister", "Vice Minister", "Ambassador",
    "Chief Executive Officer", "Head of International Relations", "Trade Commissioner", "Secretary General",
    "Professor", "Program Officer", "Counsellor", "Chair of the Board",
]
LANGUAGES = ["English", "Spanish", "Japanese", "Korean", "Mandarin", "French", "German", "Vietnamese", "Armenian"]
SUBJECTS = [
    "green hydrogen", "port electrification", "direct flights", "the 2028 Games", "a sister-city renewal",
    "student exchanges", "film co-production", "earthquake early warning", "water recycling", "heat resilience",
    "a trade delegation", "investment in clean tech", "consular services", "a cultural festival", "public transit",
]
KIND_PHRASES = {
    "bilateral_meeting": "Meeting with",
    "call": "Call with",
    "visit_received": "Visit from",
    "visit_abroad": "Visit to",
    "multilateral_forum": "Forum session with",
    "event": "Reception for",
    "correspondence": "Letter to",
}


def scaled(name: str, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(BASE[name] * scale))


def zipf_cum_weights(n: int, exponent: float = 1.0) -> list[float]:
    """Cumulative weights 1/(rank+offset)^exponent: a long tail with a few very busy heads.

    The offset (10 at 10,000 partners) flattens the very top a little, so that
    the busiest partner has thousands of engagements, not tens of thousands.
    """
    offset = max(0.5, n / 1000)
    return list(itertools.accumulate(1.0 / (rank + offset) ** exponent for rank in range(1, n + 1)))


def seeded_columns(model) -> list[str]:
    """The columns written by COPY: all but `version`, which the database default sets to 1."""
    return [f.column for f in model._meta.concrete_fields if f.name != "version"]


class _Writer:
    """Writes rows (tuples in column order) fast: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.rows_written = 0

    def _adapt(self, value):
        if isinstance(value, dt.datetime):
            return connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, dt.date):
            return connection.ops.adapt_datefield_value(value)
        if isinstance(value, Decimal):
            return str(value)
        return value

    def write(self, table: str, columns: list[str], rows) -> int:
        qn = connection.ops.quote_name
        cols = ", ".join(qn(c) for c in columns)
        count = 0
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            else:
                # Reviewed (bandit): identifiers from model meta, quoted; values are parameters.
                sql = f"INSERT INTO {qn(table)} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"  # nosec B608
                batch = []
                for row in rows:
                    batch.append(tuple(self._adapt(v) for v in row))
                    if len(batch) >= 5000:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    count += len(batch)
        self.rows_written += count
        return count
