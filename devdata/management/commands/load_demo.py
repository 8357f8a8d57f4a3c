"""Load a realistic demo built from the public facts in DOMAIN.md.

Safe to run twice: every record is looked up by a natural key first, so a
second run changes nothing (and creates no history rows).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.roles import sync_role_groups
from devdata.demo_data import CONTACTS, DEMO_PASSWORD, MISSION, PARTNERS, TOPICS, USERS
from engagements.models import Commitment, Engagement, Gift, TradeMission
from engagements.services import engagement_create, gift_create, trade_mission_create
from partners.models import Agreement, Contact, Partner, Topic
from partners.services import agreement_create, contact_create, partner_create, topic_create


def _at(year, month, day, hour=10, minute=0, tz=None):
    return dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz or settings.TIME_ZONE))


class Command(BaseCommand):
    help = "Load the demo data (partners, meetings, the 2018 trade mission, commitments, agreements) and demo users."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-login", action="store_true", help="Do not print the demo logins.")

    @transaction.atomic
    def handle(self, *args, **options):
        self.created = 0
        users = self._users()
        admin = users["admin"]
        topics = self._topics(admin)
        partners = self._partners(admin, users, topics)
        contacts = self._contacts(admin, partners)
        mission = self._mission(admin, users, partners, contacts)
        self._engagements(admin, users, partners, contacts, topics, mission)
        self._agreements(admin, users, partners)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({self.created} records created)."))
        if not options["quiet_login"]:
            self.stdout.write(
                "Log in at http://127.0.0.1:8000/accounts/login/ with one of these users, "
                f"password '{DEMO_PASSWORD}':\n"
                "  olivia (officer), sam (staff), victor (viewer), admin (superuser, also /admin/)"
            )

    # --- helpers -----------------------------------------------------------
    def _get_or_create(self, model, lookup: dict, create):
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            obj = create()
            self.created += 1
        return obj

    def _users(self):
        sync_role_groups()  # the groups exist after migrate, but not after a flush
        User = get_user_model()
        users = {}
        for username, first, last, role, is_super in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, first_name=first, last_name=last, email=f"{username}@city.example.org")
                user.is_superuser = is_super
                user.set_password(DEMO_PASSWORD)
                user.save()
                self.created += 1
            if user.is_staff != is_super:
                # The back office is for superusers only (diplomacy_crm/admin.py); older demo
                # databases gave every demo user is_staff, which is taken back here.
                user.is_staff = is_super
                user.save(update_fields=["is_staff"])
            if role:
                user.groups.add(Group.objects.get(name=role))
            users[username] = user
        return users

    def _topics(self, actor):
        return {
            slugify(name): self._get_or_create(
                Topic, {"slug": slugify(name)}, lambda n=name: topic_create(actor=actor, name=n, slug=slugify(n))
            )
            for name in TOPICS
        }

    def _partners(self, actor, users, topics):
        partners = {}
        for key, (name, kind, country, city, parent, priority, topic_slugs, owner, description) in PARTNERS.items():
            partners[key] = self._get_or_create(
                Partner,
                {"external_id": f"demo:{key}"},
                lambda: partner_create(
                    actor=actor,
                    name=name,
                    kind=kind,
                    country=country,
                    city=city,
                    parent=partners.get(parent),
                    priority=priority,
                    owner=users[owner],
                    description=description,
                    external_id=f"demo:{key}",
                    topics=[topics[s] for s in topic_slugs],
                ),
            )
        return partners

    def _contacts(self, actor, partners):
        contacts = {}
        for key, (partner, honorific, name, title, address, languages, notes, active) in CONTACTS.items():
            contacts[key] = self._get_or_create(
                Contact,
                {"external_id": f"demo:{key}"},
                lambda: contact_create(
                    actor=actor,
                    partner=partners[partner],
                    honorific=honorific,
                    full_name=name,
                    title=title,
                    form_of_address=address,
                    languages=languages,
                    protocol_notes=notes,
                    is_active=active,
                    external_id=f"demo:{key}",
                ),
            )
        return contacts

    def _mission(self, actor, users, partners, contacts):
        return self._get_or_create(
            TradeMission,
            {"name": MISSION["name"]},
            lambda: trade_mission_create(
                actor=actor,
                owner=users["olivia"],
                delegates=[contacts["delegate_port"], contacts["delegate_tech"]],
                partners=[partners["vietnam"], partners["korea"], partners["delegation"]],
                **MISSION,
            ),
        )

    def _engagement(self, actor, title, starts_at, *, commitments=(), gifts=(), **data):
        # Titles are unique in the demo; upcoming meetings move with today's date.
        engagement = Engagement.objects.filter(title=title).first()
        if engagement is None:
            data.setdefault("ends_at", starts_at + dt.timedelta(hours=1))
            data.setdefault("status", Engagement.Status.HELD if starts_at < timezone.now() else Engagement.Status.PLANNED)
            engagement = engagement_create(actor=actor, title=title, starts_at=starts_at, commitments=commitments, **data)
            for gift in gifts:
                gift_create(actor=actor, engagement=engagement, **gift)
            self.created += 1
        return engagement

    def _engagements(self, actor, users, partners, contacts, topics, mission):
        """The demo's engagements, in a fixed order (ids are stable from one fresh load to the next)."""
        self._heads_of_state(actor, users, partners, contacts, topics, mission)
        self._ministries_and_missions(actor, users, partners, contacts, topics, mission)
        self._forums_and_networks(actor, users, partners, contacts, topics, mission)
        self._upcoming(actor, users, partners, contacts, topics, mission)

    def _heads_of_state(self, actor, users, partners, contacts, topics, mission):
        """Courtesy calls on heads of state and government, a few years back."""
        olivia = users["olivia"]
        P, T = partners, topics
        meet = Engagement.Kind.BILATERAL_MEETING

        # Heads of state and government met in a few years.
        for key, title, when in [
            ("armenia", "Mayor meets the Prime Minister of Armenia", _at(2019, 9, 23, 11)),
            ("canada", "Mayor meets the Prime Minister of Canada", _at(2019, 5, 14, 9)),
            ("germany", "Mayor meets the Federal Chancellor of Germany", _at(2019, 6, 3, 15)),
            ("ireland", "Mayor meets the Taoiseach of Ireland", _at(2018, 3, 16, 12)),
            ("israel", "Mayor meets the Prime Minister of Israel", _at(2018, 5, 8, 10)),
            ("korea", "Mayor meets the President of the Republic of Korea", _at(2018, 9, 24, 16)),
            ("spain", "Mayor meets the President of the Government of Spain", _at(2019, 10, 2, 11)),
            ("holy_see", "Audience with Pope Francis", _at(2019, 11, 20, 10, tz="Europe/Rome")),
        ]:
            self._engagement(
                actor, title, when, kind=meet, partners=[P[key]], staff=[olivia],
                city_officials="The Mayor", topics=[T[s] for s in ("trade-and-investment",)] if key != "holy_see"
                else [T["migration"], T["human-rights"]],
                summary="Courtesy call and a review of the relationship with the city.",
                confidentiality=Engagement.Confidentiality.PUBLIC,
            )

    def _ministries_and_missions(self, actor, users, partners, contacts, topics, mission):
        """The 2018 trade mission, and working sessions with national ministries."""
        olivia, marco, sam = users["olivia"], users["marco"], users["sam"]
        P, C, T = partners, contacts, topics
        meet = Engagement.Kind.BILATERAL_MEETING

        # The 2018 mission: the Prime Minister of Viet Nam, flights, human rights.
        self._engagement(
            actor, "Meeting with the Prime Minister of Viet Nam", _at(2018, 10, 9, 9, tz="Asia/Ho_Chi_Minh"),
            kind=meet, partners=[P["vietnam_pm"], P["vietnam"]], contacts=[C["vn_pm"]], staff=[olivia, sam],
            city_officials="The Mayor; Deputy Mayor for Economic Development", trade_mission=mission,
            location="Office of the Government, Hanoi", topics=[T["trade-and-investment"], T["human-rights"]],
            summary="Invited Vietnamese airlines to open nonstop service between Hanoi or Ho Chi Minh City and the "
            "city's airport. The Mayor raised human rights.",
            outcomes="Government to encourage carriers to study the route; human rights concerns noted.",
            confidentiality=Engagement.Confidentiality.INTERNAL,
            commitments=[
                {"description": "Send Vietnam Airlines the airport's route-incentive package for nonstop service",
                 "made_by": Commitment.MadeBy.CITY, "partner": P["vietnam_airlines"], "owner": sam,
                 "due_date": dt.date(2018, 11, 30), "status": Commitment.Status.DONE, "completed_on": dt.date(2018, 11, 20)},
                {"description": "Study a nonstop route between Ho Chi Minh City and the city's airport",
                 "made_by": Commitment.MadeBy.PARTNER, "partner": P["vietnam_pm"], "owner": olivia,
                 "due_date": dt.date(2019, 6, 30), "status": Commitment.Status.IN_PROGRESS},
            ],
            gifts=[{"direction": Gift.Direction.RECEIVED, "exchanged_on": dt.date(2018, 10, 9),
                    "giver": "H.E. the Prime Minister of Viet Nam", "recipient": "The Mayor",
                    "description": "Lacquer painting of Ha Long Bay", "estimated_value": 350, "currency": "USD",
                    "disposition": Gift.Disposition.RETAINED_OFFICIAL, "partner": P["vietnam_pm"]}],
        )
        self._engagement(
            actor, "Business roundtable with Vietnam Airlines", _at(2018, 10, 10, 14, tz="Asia/Ho_Chi_Minh"),
            kind=meet, partners=[P["vietnam_airlines"], P["delegation"]],
            contacts=[C["vn_airlines_ceo"], C["delegate_port"]], staff=[sam], trade_mission=mission,
            location="Ho Chi Minh City", topics=[T["transportation"], T["tourism"]],
            summary="Presented the airport's incentives for new long-haul routes.",
        )

        # The British government: urban transport and sustainable freight.
        self._engagement(
            actor, "Urban freight and delivery innovation call with the UK Department for Transport",
            _at(2021, 2, 4, 8), kind=Engagement.Kind.CALL, is_virtual=True, partners=[P["uk_dft"]],
            contacts=[C["uk_minister"]], staff=[olivia], topics=[T["transportation"], T["technology"]],
            summary="Mutual promotion of transport innovations, help for local firms to expand into each other's "
            "markets, and start-up exchanges.",
            commitments=[
                {"description": "Nominate five local freight start-ups for the UK exchange programme",
                 "made_by": Commitment.MadeBy.CITY, "owner": olivia, "due_date": timezone.localdate() + dt.timedelta(days=5)},
                {"description": "Share the UK zero-emission delivery trial results",
                 "made_by": Commitment.MadeBy.PARTNER, "partner": P["uk_dft"], "owner": olivia,
                 "due_date": timezone.localdate() - dt.timedelta(days=12)},
            ],
        )

        # Japan: green hydrogen.
        self._engagement(
            actor, "Green hydrogen working session with METI and Japanese industry", _at(2022, 4, 12, 17),
            kind=Engagement.Kind.MULTILATERAL_FORUM, partners=[P["japan_meti"], P["h2_consortium"]],
            contacts=[C["meti_dg"]], staff=[marco], topics=[T["climate-and-clean-energy"]],
            summary="Roadmap for green hydrogen bringing zero-carbon power to the city's grid within a few years.",
            commitments=[
                {"description": "Deliver the grid interconnection study to METI",
                 "made_by": Commitment.MadeBy.CITY, "partner": P["japan_meti"], "owner": marco,
                 "due_date": timezone.localdate() - dt.timedelta(days=3)},
                {"description": "Share electrolyser cost projections",
                 "made_by": Commitment.MadeBy.PARTNER, "partner": P["h2_consortium"], "owner": marco,
                 "due_date": timezone.localdate() + dt.timedelta(days=20)},
            ],
        )

    def _forums_and_networks(self, actor, users, partners, contacts, topics, mission):
        """Commissions, networks, forums and calls with other cities."""
        olivia, marco, sam, priya = users["olivia"], users["marco"], users["sam"], users["priya"]
        P, C, T = partners, contacts, topics
        meet = Engagement.Kind.BILATERAL_MEETING

        # Mexico: the binational citizens' commission and the USMCA meeting.
        self._engagement(
            actor, "Launch of the binational citizens' commission with Mexico's foreign ministry", _at(2019, 7, 18, 10),
            kind=meet, partners=[P["mexico_sre"]], contacts=[C["sre_undersecretary"]], staff=[olivia, priya],
            topics=[T["culture"], T["climate-and-clean-energy"], T["education"]],
            summary="First commission of its kind, deepening ties in science, clean energy, culture, sports and equity.",
            confidentiality=Engagement.Confidentiality.PUBLIC,
        )
        self._engagement(
            actor, "Mexican and U.S. mayors meet in support of the USMCA", _at(2018, 11, 26, 12, tz="America/Mexico_City"),
            kind=Engagement.Kind.MULTILATERAL_FORUM, partners=[P["mexico"], P["mexico_city"]], staff=[olivia],
            location="Mexico City", topics=[T["trade-and-investment"]],
            summary="Convened by Mexico; the newly elected president attended.",
        )

        # Armenia–Azerbaijan war, 2020.
        self._engagement(
            actor, "Meeting with Armenian-American community leaders on the war", _at(2020, 10, 5, 18),
            kind=meet, partners=[P["armenian_council"], P["armenia"]], staff=[sam], topics=[T["human-rights"]],
            summary="The city joined other mayors in calling on the federal government to intervene.",
        )

        # U20 first meeting, 2018.
        self._engagement(
            actor, "First Urban 20 meeting", _at(2018, 10, 29, 9, tz="America/Argentina/Buenos_Aires"),
            kind=Engagement.Kind.MULTILATERAL_FORUM,
            partners=[P["u20"], P["buenos_aires"], P["paris"], P["seoul"], P["tokyo"]], staff=[olivia],
            location="Buenos Aires", topics=[T["climate-and-clean-energy"]],
            summary="Founding meeting; met officials from Buenos Aires, Paris, Seoul, Tokyo and other cities.",
        )

        # Gender equity network, November 2020.
        self._engagement(
            actor, "Launch of the international city network for gender equity", _at(2020, 11, 19, 7),
            kind=Engagement.Kind.MULTILATERAL_FORUM, is_virtual=True,
            partners=[P["gender_network"], P["barcelona"], P["freetown"], P["london"], P["mexico_city"], P["tokyo"]],
            contacts=[C["freetown_mayor"]], staff=[priya], topics=[T["gender-equity"]],
            summary="Launched with Barcelona, Freetown, London, Mexico City and Tokyo.",
            confidentiality=Engagement.Confidentiality.PUBLIC,
        )

        # Pandemic calls.
        self._engagement(
            actor, "Mayors' call on testing in elder care", _at(2020, 4, 16, 7), kind=Engagement.Kind.CALL,
            is_virtual=True, partners=[P["mexico_city"], P["milan"]], staff=[priya], topics=[T["public-health"]],
            summary="Traded practice on testing in elder care and on reopening.",
        )

        # 2015 U.S.-China climate forum.
        self._engagement(
            actor, "U.S.-China Climate Leaders Summit", _at(2015, 9, 15, 9), kind=Engagement.Kind.MULTILATERAL_FORUM,
            partners=[P["china_ndrc"]], staff=[marco], topics=[T["climate-and-clean-energy"]],
            summary="Hosted by the city; produced a climate agreement that paved the way for the national U.S.-China "
            "agreement before the Paris accord.",
            confidentiality=Engagement.Confidentiality.PUBLIC,
        )

    def _upcoming(self, actor, users, partners, contacts, topics, mission):
        """Meetings relative to today, so the dashboard has a fortnight to show."""
        marco, sam = users["marco"], users["sam"]
        P, C, T = partners, contacts, topics
        meet = Engagement.Kind.BILATERAL_MEETING

        # Upcoming, relative to today, so the dashboard has a fortnight to show.
        now = timezone.localtime()
        soon = now.replace(minute=0, second=0, microsecond=0)
        self._engagement(
            actor, "Courtesy visit of the Consul General of Japan", soon + dt.timedelta(days=4, hours=2),
            kind=Engagement.Kind.VISIT_RECEIVED, partners=[P["consulate_jp"]], contacts=[C["consul_jp"]], staff=[sam],
            location="City Hall, Mayor's conference room", topics=[T["trade-and-investment"]],
            follow_up_by=timezone.localdate() + dt.timedelta(days=14),
        )
        self._engagement(
            actor, "Olympic handover planning call with the City of Paris", soon + dt.timedelta(days=8, hours=-15),
            kind=Engagement.Kind.CALL, is_virtual=True, partners=[P["paris"], P["ioc"]],
            contacts=[C["paris_deputy"], C["ioc_director"]], staff=[marco], topics=[T["major-events"]],
        )
        self._engagement(
            actor, "Confidential briefing: 2028 Games security coordination with the IOC",
            soon + dt.timedelta(days=10, hours=1), kind=meet, partners=[P["ioc"]], contacts=[C["ioc_director"]],
            staff=[marco, sam], topics=[T["major-events"]], confidentiality=Engagement.Confidentiality.RESTRICTED,
            summary="Security arrangements for the 2028 Olympic and Paralympic Games.",
            commitments=[
                {"description": "Share the venue security perimeter plan with the IOC",
                 "made_by": Commitment.MadeBy.CITY, "partner": P["ioc"], "owner": marco,
                 "due_date": timezone.localdate() + dt.timedelta(days=2)},
            ],
        )
        self._engagement(
            actor, "Consular coordination meeting with Mexico", now.replace(microsecond=0) - dt.timedelta(days=9),
            kind=meet, partners=[P["consulate_mx"]], contacts=[C["consul_mx"]], staff=[sam], topics=[T["migration"]],
            summary="Services for Mexican nationals in the city.",
            follow_up_by=timezone.localdate() - dt.timedelta(days=1),
            commitments=[
                {"description": "Co-host a consular services fair at the public library",
                 "made_by": Commitment.MadeBy.JOINT, "partner": P["consulate_mx"], "owner": sam,
                 "due_date": timezone.localdate() + dt.timedelta(days=1)},
            ],
        )

    def _agreements(self, actor, users, partners):
        P = partners
        for title, kind, members, signed, expires, notice, owner, summary in [
            ("Urban 20 founding membership", Agreement.Kind.NETWORK_MEMBERSHIP, ["u20"], dt.date(2018, 10, 29), None, None,
             "olivia", "Founding member of the U20."),
            ("C40 Cities membership", Agreement.Kind.NETWORK_MEMBERSHIP, ["c40"], dt.date(2016, 1, 1), None, None,
             "olivia", "Member; bound to a zero-carbon plan."),
            ("City Network for Gender Equity charter", Agreement.Kind.NETWORK_MEMBERSHIP,
             ["gender_network", "barcelona", "freetown", "london", "mexico_city", "tokyo"], dt.date(2020, 11, 19), None, None,
             "priya", "Founding charter."),
            ("Memorandum on urban transport and sustainable freight", Agreement.Kind.MOU, ["uk_dft"],
             dt.date(2021, 3, 1), timezone.localdate() + dt.timedelta(days=90), timezone.localdate() + dt.timedelta(days=30),
             "olivia", "Mutual promotion of innovations; market entry; start-up exchanges."),
            ("Green hydrogen cooperation memorandum", Agreement.Kind.MOU, ["japan_meti", "h2_consortium"],
             dt.date(2022, 4, 12), dt.date(2027, 4, 11), dt.date(2027, 1, 11), "marco",
             "Green hydrogen for zero-carbon power on the city's grid."),
            ("Binational citizens' commission", Agreement.Kind.MOU, ["mexico_sre"], dt.date(2019, 7, 18), None, None,
             "olivia", "Science, clean energy, culture, sports and equity."),
            ("U.S.-China cities climate declaration", Agreement.Kind.OTHER, ["china_ndrc"], dt.date(2015, 9, 16), None, None,
             "marco", "Paved the way for the national U.S.-China agreement."),
            ("Sister-city agreement with Mexico City", Agreement.Kind.SISTER_CITY, ["mexico_city"], dt.date(1969, 5, 1),
             None, None, "olivia", ""),
        ]:
            self._get_or_create(
                Agreement,
                {"title": title},
                lambda: agreement_create(
                    actor=actor, title=title, kind=kind, partners=[P[k] for k in members], signed_on=signed,
                    expires_on=expires, notice_by=notice, status=Agreement.Status.IN_FORCE, owner=users[owner],
                    summary=summary,
                ),
            )
