"""Ready-made criteria groups (R-HLTH-1): 1:1 Engagement, 1:1 Call Engagement, Supported
Tickets, CSM Sentiment, NPS. Their default maxima add up to 100, so `starter_profile`
is a valid profile as it comes; each template takes its own maximum to rebalance."""

from __future__ import annotations

from .conditions import Condition
from .profile import Bands, Decay, EventRule, Group, Profile


def one_to_one_engagement(max_points: int = 25, window_days: int = 30) -> Group:
    """Meetings held with the customer recently: 10 points per completed meeting."""
    return Group(
        kind="event", name="1:1 Engagement", max_points=max_points, window_days=window_days,
        rules=(EventRule("meeting", 10, where=Condition("outcome", "eq", "COMPLETED")),),
    )


def one_to_one_call_engagement(max_points: int = 15, window_days: int = 30) -> Group:
    """Real conversations: 5 points per call of 15 minutes or more."""
    return Group(
        kind="event", name="1:1 Call Engagement", max_points=max_points,
        window_days=window_days,
        rules=(EventRule("call", 5, where=Condition("duration_ms", "gte", "900000")),),
    )


def supported_tickets(max_points: int = 20) -> Group:
    """Open tickets weigh against health: full points with none open, half with one or
    two, and 5 points off per open high-priority ticket. No window: the facts hold only
    the tickets still open, however old."""
    half = max_points // 2
    return Group(
        kind="event", name="Supported Tickets", max_points=max_points,
        rules=(
            EventRule("ticket_open", max_points - half, mode="at_most", count=0),
            EventRule("ticket_open", half, mode="at_most", count=2),
            EventRule("ticket_open", -5, where=Condition("priority", "eq", "HIGH")),
        ),
    )


def csm_sentiment(max_points: int = 20, decay_percent: float = 50,
                  every_months: int = 3) -> Group:
    """The CSM's latest reading of the customer, fading unless it is renewed."""
    return Group(
        kind="event", name="CSM Sentiment", max_points=max_points,
        decay=Decay(decay_percent, every_months),
        rules=(
            EventRule("csm_sentiment", max_points, mode="latest",
                      where=Condition("sentiment", "eq", "positive")),
            EventRule("csm_sentiment", max_points // 2, mode="latest",
                      where=Condition("sentiment", "eq", "neutral")),
        ),
    )


def nps(max_points: int = 20, window_days: int = 365) -> Group:
    """The latest NPS answer of the year: promoters (9-10) full points, passives (7-8)
    half, detractors none."""
    return Group(
        kind="event", name="NPS", max_points=max_points, window_days=window_days,
        rules=(
            EventRule("nps", max_points, mode="latest", where=Condition("score", "gte", "9")),
            EventRule("nps", max_points // 2, mode="latest",
                      where=Condition("score", "between", values=("7", "8"))),
        ),
    )


TEMPLATES = {
    "one_to_one_engagement": one_to_one_engagement,
    "one_to_one_call_engagement": one_to_one_call_engagement,
    "supported_tickets": supported_tickets,
    "csm_sentiment": csm_sentiment,
    "nps": nps,
}


def starter_profile(profile_id: str, name: str = "Customer health") -> Profile:
    """A draft made of every template at its default maximum (25+15+20+20+20 = 100)."""
    return Profile(
        id=profile_id, name=name, bands=Bands(at_risk_below=40, healthy_from=70),
        groups=tuple(template() for template in TEMPLATES.values()),
    )
