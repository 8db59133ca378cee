"""Every Kafka topic of the platform, in one place.

Producers and consumers name topics only through these constants; the local
stack and the Kubernetes KafkaTopic resources are generated from ALL_TOPICS,
so a topic used in code always exists with the partitions and retention
documented here (docs/topics.md is written from the same list).
"""

from dataclasses import dataclass

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int
    producer: str
    description: str

    @property
    def dead_letter(self) -> "TopicSpec":
        return TopicSpec(
            name=f"{self.name}.dlq",
            partitions=1,
            retention_ms=30 * DAY_MS,
            producer="any consumer of " + self.name,
            description=f"Messages of {self.name} that kept failing, with the error in headers.",
        )


RECORDS = TopicSpec(
    "crm.records.v1", 6, 14 * DAY_MS, "records",
    "Record lifecycle of every object type, engagements included: created, updated "
    "(property changes with old and new values), archived, restored, merged, deleted.",
)
ASSOCIATIONS = TopicSpec(
    "crm.associations.v1", 6, 14 * DAY_MS, "records",
    "Associations between records added and removed, keyed by the 'from' record.",
)
PROPERTIES = TopicSpec(
    "crm.properties.v1", 1, 365 * DAY_MS, "records",
    "Property definitions and custom object schemas created, changed and archived.",
)
IDENTITY = TopicSpec(
    "crm.identity.v1", 1, 365 * DAY_MS, "records",
    "Accounts, users, teams, seats, permissions and revoked tokens.",
)
SEARCH_PROGRESS = TopicSpec(
    "crm.search.v1", 1, 7 * DAY_MS, "search",
    "Index progress: how far the search index has applied the record events.",
)

EXPORTS = TopicSpec(
    "crm.exports.v1", 3, 14 * DAY_MS, "exports",
    "Export jobs requested, finished (with the 30-day download link) and failed; "
    "keyed by account so one account's exports run in order.",
)
NOTIFICATIONS = TopicSpec(
    "crm.notifications.v1", 1, 14 * DAY_MS, "notifications",
    "Emails handed to the SMTP relay, one event per recipient of a source event.",
)
WORKSPACE = TopicSpec(
    "crm.workspace.v1", 3, 365 * DAY_MS, "workspace",
    "Customer success workspace settings changed (customers object, CSM property) and "
    "saved views created, changed and deleted.",
)
HEALTHSCORES = TopicSpec(
    "crm.healthscores.v1", 6, 30 * DAY_MS, "healthscore",
    "Health score changes (old/new score and band, with the cause) and alerts raised on "
    "a change of band; keyed by the customer record.",
)

LISTS = TopicSpec(
    "crm.lists.v1", 6, 14 * DAY_MS, "records",
    "List membership joined and left (keyed by the contact) and emails sent to a list "
    "(keyed by the list), one event per part of a send with its recipients.",
)

CORE_TOPICS: tuple[TopicSpec, ...] = (RECORDS, ASSOCIATIONS, PROPERTIES, IDENTITY, SEARCH_PROGRESS,
                                      EXPORTS, NOTIFICATIONS, WORKSPACE, HEALTHSCORES, LISTS)


def all_topics(extra: tuple[TopicSpec, ...] = ()) -> list[TopicSpec]:
    """Every topic with its dead-letter topic beside it."""
    topics = list(CORE_TOPICS) + list(extra)
    return topics + [t.dead_letter for t in topics]


ALL_TOPICS: list[TopicSpec] = all_topics()
