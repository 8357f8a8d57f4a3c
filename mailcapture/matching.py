"""Who a captured message is from and about: the known user who sent it, its contacts and partners.

Partners are found in two ways, the first that answers wins per address:
1. an address is a contact's email (case-insensitive) → that contact and its partner;
2. otherwise its domain (or a parent domain) is a partner's website host or the
   email domain of a partner's contacts → that partner, but only when the domain
   names exactly one partner (a shared domain, e.g. a government's, is no evidence).
Free-mail domains and the office's own (its users' domains, the mailbox's) never
match by domain. Three bulk queries whatever the number of addresses.
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.db.models.functions import Lower

from partners.models import Contact, Partner

FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "ymail.com",
    "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net",
    "web.de", "mail.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com", "naver.com", "fastmail.com",
})  # fmt: skip


@dataclass
class Match:
    contacts: list = field(default_factory=list)
    partners: list = field(default_factory=list)


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower().rstrip(".") if "@" in address else ""


def site_host(url: str) -> str:
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower().rstrip(".")
    return host.removeprefix("www.")


def _parents(domain: str) -> list[str]:
    """mail.mofa.go.jp → [mail.mofa.go.jp, mofa.go.jp, go.jp] (not a bare top-level domain)."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def known_senders(address: str) -> list:
    """The active users whose email is `address` (case-insensitive): one is a known sender, two are ambiguous."""
    if not address:
        return []
    User = get_user_model()
    return list(User.objects.filter(email__iexact=address, is_active=True).order_by("pk")[:2])


def office_domains() -> set[str]:
    User = get_user_model()
    emails = User.objects.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    return {domain_of(e) for e in emails if domain_of(e)}


def _by_domain(domains: set[str]) -> dict[str, set[int]]:
    """domain → ids of the partners it names (website host, or their contacts' email domain)."""
    if not domains:
        return {}
    candidates = {p for d in domains for p in _parents(d)}
    named: dict[str, set[int]] = {d: set() for d in domains}
    site_q = Q()
    for candidate in candidates:
        site_q |= Q(website__icontains=candidate)
    for pk, website in Partner.objects.filter(site_q).values_list("pk", "website"):
        host = site_host(website)
        for d in domains:
            if host and (d == host or d.endswith("." + host)):
                named[d].add(pk)
    contact_q = Q()
    for d in domains:
        contact_q |= Q(email__iendswith="@" + d)
    for partner_id, email in Contact.objects.filter(contact_q).values_list("partner_id", "email"):
        if domain_of(email) in named:
            named[domain_of(email)].add(partner_id)
    return named


def match(addresses: list[str], *, ignore: set[str] = frozenset()) -> Match:
    """The contacts and partners the message's `addresses` name (`ignore`: the office's own addresses)."""
    addresses = [a.lower() for a in addresses if a and a.lower() not in ignore]
    contacts = list(
        Contact.objects.annotate(address=Lower("email"))
        .filter(address__in=addresses)
        .select_related("partner")
        .order_by("pk")
    )
    partner_ids = [c.partner_id for c in contacts]
    matched = {c.address for c in contacts}
    own = office_domains() | {domain_of(a) for a in ignore}
    domains = {domain_of(a) for a in addresses if a not in matched} - own - FREE_MAIL - {""}
    for ids in _by_domain(domains).values():
        if len(ids) == 1:
            partner_ids.extend(ids)
    ordered = list(dict.fromkeys(partner_ids))
    partners = {p.pk: p for p in Partner.objects.filter(pk__in=ordered)}
    return Match(contacts=contacts, partners=[partners[pk] for pk in ordered if pk in partners])
