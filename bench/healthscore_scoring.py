"""Full recompute of health scores: score() over many customers (issue 8 goal: 100,000
customers with 20 engagements each in under 30 s on this machine).

Customers are generated in batches so memory stays flat; only score() is timed. Prints
figures, asserts nothing.

    uv run --package crm-healthscore python bench/healthscore_scoring.py [customers] [events]
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta

from crm_healthscore.domain.conditions import Condition
from crm_healthscore.domain.facts import CustomerFacts, Event
from crm_healthscore.domain.profile import Group, Profile, PropertyRule, prepare_profile
from crm_healthscore.domain.scoring import Scorer
from crm_healthscore.domain.templates import (
    csm_sentiment,
    nps,
    one_to_one_call_engagement,
    one_to_one_engagement,
    supported_tickets,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
BATCH = 2_000


def bench_profile() -> Profile:
    """Every template (windows, decay, each/at_most/latest rules) and a property group."""
    fit = Group(kind="property", name="Fit", max_points=15, rules=(
        PropertyRule(Condition("employees", "gte", "50"), 10),
        PropertyRule(Condition("industry", "in", values=("SAAS", "FINTECH")), 5),
        PropertyRule(Condition("renewal_date", "is_unknown"), -5),
    ))
    profile = Profile(id="bench", name="Bench", groups=(
        one_to_one_engagement(20), one_to_one_call_engagement(15), supported_tickets(20),
        csm_sentiment(15), nps(15), fit,
    ))
    return prepare_profile(profile, {"employees": "number", "industry": "enumeration",
                                     "renewal_date": "date"})


def customers(rng: random.Random, start: int, count: int, events_each: int):
    kinds = ("meeting", "call", "email", "note", "ticket_open", "nps", "csm_sentiment")
    for number in range(start, start + count):
        events = []
        for index in range(events_each):
            kind = rng.choice(kinds)
            properties = {
                "meeting": lambda: {"outcome": rng.choice(("COMPLETED", "NO_SHOW"))},
                "call": lambda: {"duration_ms": str(rng.randrange(0, 3_600_000))},
                "ticket_open": lambda: {"priority": rng.choice(("HIGH", "LOW"))},
                "nps": lambda: {"score": str(rng.randint(0, 10))},
                "csm_sentiment": lambda: {"sentiment": rng.choice(("positive", "negative"))},
            }.get(kind, dict)()
            at = NOW - timedelta(seconds=rng.randrange(0, 540 * 86400))
            events.append(Event(f"{number}-{index}", kind, at, properties))
        yield CustomerFacts(
            f"customer-{number}",
            {"employees": str(rng.randint(1, 500)),
             "industry": rng.choice(("SAAS", "RETAIL", "FINTECH")),
             "renewal_date": rng.choice((None, "2025-09-30"))},
            tuple(events),
        )


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    events_each = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    rng = random.Random(42)
    scorer = Scorer(bench_profile())  # made once, as recompute() does per live profile
    scoring_seconds = 0.0
    with_next_change = 0
    score_sum = 0
    for start in range(0, total, BATCH):
        batch = list(customers(rng, start, min(BATCH, total - start), events_each))
        began = time.perf_counter()
        results = [scorer.score(facts, NOW) for facts in batch]
        scoring_seconds += time.perf_counter() - began
        with_next_change += sum(r.next_change_at is not None for r in results)
        score_sum += sum(r.score for r in results)
    print(f"healthscore full recompute: {total:,} customers x {events_each} events, 1 process")
    print(f"  score() total        {scoring_seconds:8.2f} s   (goal < 30 s for 100,000 x 20)")
    print(f"  customers/s          {total / scoring_seconds:8.0f}")
    print(f"  per customer         {scoring_seconds / total * 1e6:8.1f} us")
    print(f"  average score        {score_sum / total:8.1f}")
    print(f"  with a next change   {with_next_change / total:8.1%}")


if __name__ == "__main__":
    main()
