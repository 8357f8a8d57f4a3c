"""The importer's lookups: partners and contacts named by id or name (accents and case ignored), read once per import."""

from collections import defaultdict

from django.contrib.auth import get_user_model

from partners.models import Contact, Partner, Topic

from .importer import _ID, split_titles
from .text import name_key

# --- Lookups -----------------------------------------------------------------------------


class PartnerIndex:
    """Every partner's id, name, country and external id, read in one query, to match and resolve rows.

    A partner queued for creation by an earlier row is in the index too, as its
    (unsaved) instance instead of an id.
    """

    def __init__(self):
        from .kinds.base import NameIndex

        self._resolved: dict = {}  # a reference's partner, once resolved (cleared when a partner is added)
        self.by_external: dict[str, object] = {}
        self.by_name: dict[str, list] = defaultdict(list)  # folded name -> refs, any country
        self.by_exact: dict[str, list] = defaultdict(list)  # exact name -> refs, any country
        self.names = NameIndex()  # scope: the country code ("" for none)
        self.ids: set[int] = set()
        self.external_of: dict = {}
        self.spellings: dict = {}
        for pk, name, country, external_id in Partner.objects.values_list("pk", "name", "country", "external_id"):
            self.add(pk, name, country, external_id)

    def spelling(self, ref) -> str:
        return self.spellings[ref if isinstance(ref, int) else id(ref)]

    def add(self, ref, name, country, external_id):
        country = getattr(country, "code", country) or ""
        if isinstance(ref, Partner) and ref.pk is not None:
            ref = ref.pk
        key = ref if isinstance(ref, int) else id(ref)
        if self._resolved:
            self._resolved.clear()  # a new spelling may make a name ambiguous
        if isinstance(ref, int):
            self.ids.add(ref)
        if external_id:
            self.by_external[external_id] = ref
            self.external_of[key] = external_id
        self.spellings[key] = name
        self.names.add(country, name, ref)
        if ref not in self.by_name[name_key(name)]:
            self.by_name[name_key(name)].append(ref)
        if ref not in self.by_exact[name]:
            self.by_exact[name].append(ref)

    def resolve(self, ref: str):
        """A partner from "12", "#12" or a name (exact spelling first): its id, or its queued instance; ValueError."""
        found = self._resolved.get(ref)
        if found is None:
            found = self._resolved[ref] = self._resolve(ref)
        return found

    def _resolve(self, ref: str):
        match = _ID.fullmatch(ref.strip())
        if match:
            pk = int(match.group(1))
            if pk in self.ids:
                return pk
            if ref.strip().startswith("#"):
                raise ValueError(f"no partner has the id {pk}.")
        found = self.by_exact.get(ref.strip()) or self.by_name.get(name_key(ref), [])
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValueError(f"no partner is named “{ref[:80]}”.")
        ids = ", ".join(str(i) for i in sorted(f for f in found if isinstance(f, int))[:5])
        raise ValueError(f"{len(found)} partners are named “{ref[:80]}” (ids {ids}): give the id instead.")


class ContactIndex:
    def __init__(self):
        from .kinds.base import NameIndex

        self.names = NameIndex()  # scope: the partner id
        self.spellings: dict = {}
        self.by_external: dict[str, int] = {}
        self.by_key: dict[tuple[int, str], int] = {}
        self.by_name: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.ids: set[int] = set()
        for pk, partner_id, full_name, external_id in Contact.objects.values_list(
            "pk", "partner_id", "full_name", "external_id"
        ):
            self.add(pk, partner_id, full_name, external_id)

    def spelling(self, ref) -> str:
        return self.spellings[ref if isinstance(ref, int) else id(ref)]

    def add(self, pk, partner_id, full_name, external_id):
        """`pk` is the id, or the instance of a contact queued for creation."""
        self.spellings[pk if isinstance(pk, int) else id(pk)] = full_name
        self.names.add(partner_id, full_name, pk)
        if not isinstance(pk, int):
            if external_id:
                self.by_external[external_id] = pk
            return
        self.ids.add(pk)
        if external_id:
            self.by_external[external_id] = pk
        key = name_key(full_name)
        self.by_key.setdefault((partner_id, key), pk)
        if (pk, partner_id) not in self.by_name[key]:
            self.by_name[key].append((pk, partner_id))

    def resolve(self, ref: str, partner_ids: set[int]) -> int:
        match = _ID.fullmatch(ref.strip())
        if match and int(match.group(1)) in self.ids:
            return int(match.group(1))
        candidates = self.by_name.get(name_key(_strip_titles(ref)), [])
        among_partners = [pk for pk, partner_id in candidates if partner_id in partner_ids]
        chosen = among_partners or [pk for pk, _ in candidates]
        if len(chosen) == 1:
            return chosen[0]
        if not chosen:
            raise ValueError(f"no contact is named “{ref[:80]}”.")
        ids = ", ".join(str(i) for i in sorted(chosen)[:5])
        raise ValueError(f"{len(chosen)} contacts are named “{ref[:80]}” (ids {ids}): give the id instead.")


def _strip_titles(name: str) -> str:
    return split_titles(name)[2]


class Lookups:
    """Users and topics, loaded once per import."""

    def __init__(self):
        User = get_user_model()
        self.users = {u.get_username(): u for u in User.objects.filter(is_active=True)}
        self.users_folded = defaultdict(list)
        for username, user in self.users.items():
            self.users_folded[username.casefold()].append(user)
        self.topics = {}
        for topic in Topic.objects.all():
            self.topics[topic.slug.casefold()] = topic
            self.topics.setdefault(name_key(topic.name), topic)

    def user(self, username: str):
        if username in self.users:
            return self.users[username]
        folded = self.users_folded.get(username.casefold(), [])
        if len(folded) == 1:
            return folded[0]
        raise ValueError(f"no active user has the username “{username[:80]}”.")

    def topic(self, ref: str):
        topic = self.topics.get(ref.casefold()) or self.topics.get(name_key(ref))
        if topic is None:
            raise ValueError(f"no topic “{ref[:80]}” (officers add topics in the admin).")
        return topic
