"""List use cases (R-MKT-3): static and active lists, the consumer that keeps
active membership up to date from record events, and email to a list."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Histogram

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent, record_key
from crm_contracts.lists import v1 as lists_v1
from crm_contracts.records import v1 as records_v1
from crm_platform.identity.principal import Principal
from crm_platform.outbox import OutgoingEvent
from crm_records.domain import lists as rules
from crm_records.domain.errors import DomainError
from crm_records.handlers.marketing import MarketingUnitOfWork, NotFound, StoredList
from crm_records.handlers.records import Actor

SOURCE = "/crm/records/lists"
SEND_CHUNK = 100  # contacts per transaction (and per list-email event) of a send
FILL_PAGE = 1000

# R-MKT-3: from a record change being written to the membership it decides being stored.
MEMBERSHIP_LAG = Histogram(
    "crm_list_membership_lag_seconds",
    "Time from a contact change to the active-list membership it decides being stored",
    buckets=(.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60))


class ListRuleBroken(DomainError):
    """A request the list's kind does not allow (adding to an active list, ...)."""


class SendIdReused(DomainError):
    category = "CONFLICT"


def _membership_event(account_id: int, change: rules.MembershipChange, processing_type: str,
                      now: datetime, version: int | None = None,
                      changed_at: datetime | None = None) -> OutgoingEvent:
    kind = lists_v1.ListMembershipJoined if change.joined else lists_v1.ListMembershipLeft
    data = kind(account_id=account_id, list_id=change.list_id, object_type="contacts",
                record_id=change.record_id, processing_type=processing_type,
                record_version=version, record_changed_at=changed_at, changed_at=now)
    # A change an active list made for one record version happens once (versions only
    # advance), so it has a natural id: the same change is the same event, and making it
    # costs no random bytes. Hand-made and fill changes have no version: a random id.
    event_id = (None if version is None else
                f"list-membership:{account_id}:{change.list_id}:{change.record_id}:{version}:"
                f"{'joined' if change.joined else 'left'}")
    event = CloudEvent.of(data, source=SOURCE, account_id=account_id, id=event_id, time=now,
                          subject=f"lists/{change.list_id}/contacts/{change.record_id}")
    return OutgoingEvent(topics.LISTS.name, record_key(account_id, "contacts", change.record_id),
                         event)


SNAPSHOT_EVENTS = frozenset(e.EVENT_TYPE for e in (
    records_v1.RecordCreated, records_v1.RecordUpdated, records_v1.RecordArchived,
    records_v1.RecordRestored, records_v1.RecordMerged))


@dataclass(frozen=True)
class ContactSnapshot:
    """The fields of a RecordSnapshot event the membership rules read, taken straight
    from its JSON: validating the whole contract model (every property, the change
    list, two datetimes) was half of the consumer's time per event. A malformed event
    fails its batch and ends on the dead-letter topic, as a validation error would."""

    account_id: int
    record_id: int
    version: int
    properties: dict[str, str | None]
    archived: bool
    updated_at: str  # ISO 8601, parsed only for the changes actually made

    @classmethod
    def of(cls, data: dict[str, Any]) -> ContactSnapshot:
        return cls(int(data["account_id"]), int(data["record_id"]), int(data["version"]),
                   dict(data["properties"]), bool(data.get("archived", False)),
                   str(data["updated_at"]))


class ActiveListDefinitions:
    """Parsed filter groups of active lists, by (list id, updated_at).

    The definitions themselves are read once per batch, in one indexed query for the
    batch's accounts, so a list created or archived counts from the next batch on any
    replica without an invalidation message; what is kept here is only the parsing,
    and a list's filters never change under one updated_at."""

    MAX_KEPT = 10_000

    def __init__(self) -> None:
        self._parsed: dict[tuple[int, datetime], rules.FilterGroups] = {}

    def parsed(self, list_id: int, updated_at: datetime, raw: Any) -> rules.FilterGroups:
        key = (list_id, updated_at)
        groups = self._parsed.get(key)
        if groups is None:
            if len(self._parsed) >= self.MAX_KEPT:
                self._parsed.clear()
            groups = self._parsed[key] = rules.parse_filter_groups(raw)
        return groups


DEFINITIONS = ActiveListDefinitions()


async def apply_record_events(store: Any, events: Sequence[CloudEvent], now: datetime,
                              definitions: ActiveListDefinitions = DEFINITIONS
                              ) -> list[rules.MembershipChange]:
    """The list-membership consumer: for each contact's newest snapshot in the batch, if
    newer than the last one applied, join or leave the account's active lists and
    publish each change. Set-based: the same few statements per batch, whatever its
    size (definitions; versions with the current memberships; joins with leaves; the
    outbox rows and their notify)."""
    contact_events = [e for e in events if e.type in SNAPSHOT_EVENTS
                      and e.data.get("object_type") == "contacts"]
    if not contact_events:
        return []
    lists_by_account: dict[int, dict[int, rules.FilterGroups]] = {}
    for account_id, list_id, updated_at, raw in await store.active_list_definitions(
            sorted({e.account_id for e in contact_events})):
        lists_by_account.setdefault(account_id, {})[list_id] = definitions.parsed(
            list_id, updated_at, raw)
    newest: dict[tuple[int, int], ContactSnapshot] = {}
    for event in contact_events:
        if event.account_id not in lists_by_account:
            continue  # most accounts have no active list: their events cost no decoding
        data = ContactSnapshot.of(event.data)
        key = (data.account_id, data.record_id)
        if key not in newest or newest[key].version < data.version:
            newest[key] = data
    # An older or repeated snapshot than the last applied changes nothing (R-BUS-4), so
    # this consumer needs no record of the event ids it applied.
    current = await store.advance_versions(
        [(a, r, d.version) for (a, r), d in newest.items()])
    if not current:
        return []
    planned = []
    for key, members in current.items():
        data = newest[key]
        active = lists_by_account[data.account_id]
        planned += [(data, change) for change in rules.active_membership_changes(
            active, members & active.keys(), data.record_id, data.properties, data.archived)]
    joined, left = await store.apply_membership_changes(
        [(d.account_id, c.list_id, c.record_id) for d, c in planned if c.joined],
        [(d.account_id, c.list_id, c.record_id) for d, c in planned if not c.joined], now)
    made = [(d, c) for d, c in planned
            if (d.account_id, c.list_id, c.record_id) in (joined if c.joined else left)]
    changed_at = {d.updated_at: datetime.fromisoformat(d.updated_at) for d, _ in made}
    await store.publish([_membership_event(d.account_id, c, rules.DYNAMIC, now, d.version,
                                           changed_at[d.updated_at]) for d, c in made])
    for data in {(d.account_id, d.record_id): d for d, _ in made}.values():
        MEMBERSHIP_LAG.observe(max(0.0, (now - changed_at[data.updated_at]).total_seconds()))
    return [c for _, c in made]


@dataclass
class SendReport:
    send_id: str
    list_id: int
    sent: list[tuple[int, str, int | None]] = field(default_factory=list)  # contact, address, email
    skipped: list[tuple[int, str]] = field(default_factory=list)  # contact, reason
    failed: list[tuple[int, str]] = field(default_factory=list)


class ListsHandler:
    def __init__(self, unit_of_work: MarketingUnitOfWork,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    async def create(self, account_id: int, name: str, processing_type: str,
                     filter_groups: Any = None,
                     object_type_id: str = rules.CONTACTS_OBJECT_TYPE_ID) -> StoredList:
        """A static (MANUAL) list starts empty; an active (DYNAMIC) one starts with every
        contact its filters match."""
        problems = []
        if not isinstance(name, str) or not name.strip():
            problems.append("name is required")
        if processing_type not in rules.PROCESSING_TYPES:
            problems.append(f"processingType must be one of {', '.join(rules.PROCESSING_TYPES)}")
        if object_type_id != rules.CONTACTS_OBJECT_TYPE_ID:
            problems.append("objectTypeId must be 0-1: lists hold contacts")
        if processing_type == rules.MANUAL and filter_groups:
            problems.append("a MANUAL list has no filterGroups")
        if problems:
            raise rules.InvalidListDefinition(problems)
        groups = (rules.parse_filter_groups(filter_groups)
                  if processing_type == rules.DYNAMIC else None)
        now = self.clock()
        async with self.unit_of_work() as session:
            store = session.store
            if await store.list_name_taken(account_id, name.strip()):
                raise rules.InvalidListDefinition([f"a list named {name.strip()!r} exists"])
            list_id = await store.create_list(
                account_id, name.strip(), processing_type,
                rules.filter_groups_json(groups) if groups else None, now)
            if groups:
                await self._fill(store, account_id, list_id, groups, now)
            created = await store.get_list(account_id, list_id)
        return created

    @staticmethod
    async def _fill(store: Any, account_id: int, list_id: int, groups: rules.FilterGroups,
                    now: datetime) -> None:
        after = 0
        while page := await store.contacts_page(account_id, after=after, limit=FILL_PAGE):
            matching = [i for i, _, properties in page if rules.record_matches(groups, properties)]
            added = await store.add_members(account_id, list_id, matching, now)
            await store.publish([_membership_event(
                account_id, rules.MembershipChange(list_id, i, True), rules.DYNAMIC, now)
                for i in added])
            after = page[-1][0]

    async def get(self, account_id: int, list_id: int) -> StoredList:
        async with self.unit_of_work() as session:
            found = await session.store.get_list(account_id, list_id)
        if found is None:
            raise NotFound("list", list_id)
        return found

    async def all(self, account_id: int) -> list[StoredList]:
        async with self.unit_of_work() as session:
            return list(await session.store.lists(account_id))

    async def archive(self, account_id: int, list_id: int) -> None:
        async with self.unit_of_work() as session:
            if not await session.store.archive_list(account_id, list_id, self.clock()):
                raise NotFound("list", list_id)

    async def members(self, account_id: int, list_id: int, *, after: int,
                      limit: int, viewer: Principal | None = None) -> list[int]:
        """Member ids; R-AUTH-3: only those `viewer` may see (None: the platform)."""
        async with self.unit_of_work() as session:
            if await session.store.get_list(account_id, list_id) is None:
                raise NotFound("list", list_id)
            return list(await session.store.member_ids(account_id, list_id, after=after,
                                                       limit=limit, viewer=viewer))

    async def change_members(self, account_id: int, list_id: int, record_ids: Sequence[int],
                             *, add: bool) -> tuple[list[int], list[int]]:
        """Add to (or remove from) a static list: (ids changed, ids missing)."""
        now = self.clock()
        async with self.unit_of_work() as session:
            store = session.store
            found = await store.get_list(account_id, list_id)
            if found is None:
                raise NotFound("list", list_id)
            if found.processing_type != rules.MANUAL:
                raise ListRuleBroken("an active (DYNAMIC) list's members follow its filters; "
                                     "they cannot be added or removed by hand")
            ids = list(dict.fromkeys(record_ids))
            if add:
                existing = set(await store.contact_properties(account_id, ids))
                missing = [i for i in ids if i not in existing]
                changed = await store.add_members(account_id, list_id,
                                                  [i for i in ids if i in existing], now)
            else:
                changed = await store.remove_members(account_id, list_id, ids)
                missing = [i for i in ids if i not in changed]
            await store.publish([_membership_event(
                account_id, rules.MembershipChange(list_id, i, add), rules.MANUAL, now)
                for i in changed])
        return changed, missing

    async def send_email(self, account_id: int, user_id: int | None, list_id: int, *,
                         subject: str, html: str, text: str | None, from_address: str,
                         send_id: str | None = None) -> SendReport:
        """One email engagement per reachable member, bound to its address (R-REC-8), and
        list-email events for the notifications service. Sending again with the same
        send id (a retry) mails nobody twice: each contact is claimed once per send."""
        send_id = send_id or str(uuid.uuid4())
        now = self.clock()
        async with self.unit_of_work() as session:
            if await session.store.get_list(account_id, list_id) is None:
                raise NotFound("list", list_id)
            first_list = await session.store.claim_send(account_id, send_id, list_id, user_id,
                                                        subject, now)
            if first_list is not None and first_list != list_id:
                raise SendIdReused(f"send id {send_id!r} was used for list {first_list}")
            member_ids, after = [], 0
            while page := await session.store.member_ids(account_id, list_id, after=after,
                                                         limit=FILL_PAGE):
                member_ids.extend(page)
                after = page[-1]
        chunks = [member_ids[i:i + SEND_CHUNK] for i in range(0, len(member_ids), SEND_CHUNK)]
        for part, chunk in enumerate(chunks, start=1):
            await self._send_chunk(account_id, user_id, list_id, send_id, chunk, part,
                                   len(chunks), subject, html, text, from_address, now)
        return await self.report(account_id, list_id, send_id)

    async def _send_chunk(self, account_id: int, user_id: int | None, list_id: int,
                          send_id: str, contact_ids: list[int], part: int, parts: int,
                          subject: str, html: str, text: str | None, from_address: str,
                          now: datetime) -> None:
        async with self.unit_of_work() as session:
            store = session.store
            properties = await store.contact_properties(account_id, contact_ids)
            addresses = [p["email"] for p in properties.values() if p.get("email")]
            suppressed = await store.suppressions(account_id, addresses)
            rows = []
            for contact_id in contact_ids:
                reason = rules.skip_reason(properties.get(contact_id), suppressed)
                address = (properties.get(contact_id) or {}).get("email")
                rows.append((contact_id, address, "SKIPPED" if reason else "SENT", reason))
            fresh = await store.claim_recipients(account_id, send_id, rows)
            # SENT implies an address (rules.skip_reason); `a is not None` says so to mypy.
            to_send = [(c, a) for c, a, outcome, _ in rows
                       if outcome == "SENT" and c in fresh and a is not None]
            if not to_send:
                return
            actor = Actor(account_id, user_id, "API", f"list-send:{send_id}")
            engagements = await session.records.create(actor, "emails", [{
                "hs_timestamp": now.isoformat(), "hs_email_subject": subject,
                "hs_email_html": html, "hs_email_text": text, "hs_email_direction": "EMAIL",
                "hs_email_status": "SENT", "hs_email_from_email": from_address,
                "hs_email_to_email": address} for _, address in to_send])
            by_contact = {c: e.record_id for (c, _), e in zip(to_send, engagements, strict=True)}
            await store.set_engagements(account_id, send_id, by_contact)
            recipients = [lists_v1.ListEmailRecipient(
                contact_id=c, address=a, engagement_id=by_contact[c],
                idempotency_key=rules.recipient_key(send_id, c)) for c, a in to_send]
            data = lists_v1.ListEmailRequested(
                account_id=account_id, user_id=user_id, list_id=list_id, send_id=send_id,
                subject=subject, html=html, text=text, from_address=from_address,
                recipients=recipients, part=part, parts=parts, requested_at=now)
            event = CloudEvent.of(data, source=SOURCE, account_id=account_id,
                                  subject=f"lists/{list_id}/sends/{send_id}")
            await store.publish([OutgoingEvent(topics.LISTS.name,
                                               lists_v1.list_key(account_id, list_id), event)])

    async def report(self, account_id: int, list_id: int, send_id: str) -> SendReport:
        async with self.unit_of_work() as session:
            rows = await session.store.send_report(account_id, send_id)
        report = SendReport(send_id, list_id)
        for row in rows:
            if row["outcome"] == "SENT":
                report.sent.append((row["contact_id"], row["address"], row["engagement_id"]))
            elif row["outcome"] == "SKIPPED":
                report.skipped.append((row["contact_id"], row["reason"]))
            else:
                report.failed.append((row["contact_id"], row["reason"]))
        return report

    async def suppress(self, account_id: int, address: str, reason: str) -> None:
        """Record that an address unsubscribed or hard-bounced: list emails skip it."""
        if reason not in rules.SUPPRESSION_REASONS:
            raise rules.InvalidListDefinition(
                [f"reason must be one of {', '.join(rules.SUPPRESSION_REASONS)}"])
        async with self.unit_of_work() as session:
            await session.store.suppress(account_id, address, reason, self.clock())
