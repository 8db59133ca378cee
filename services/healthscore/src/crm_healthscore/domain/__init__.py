"""The pure rules of health scores: no I/O, standard library only.

profile (profiles, validation), templates, limits, facts, scoring, bands, changes,
explain, history. Import from the modules; the names below are the public surface.
"""

from .bands import AT_RISK, HEALTHY, NEUTRAL, band
from .changes import CAUSE_TIME, ScoreChange, diff, event_cause, is_alert, profile_cause
from .conditions import Condition
from .explain import Explanation, GroupExplanation, explain
from .facts import CustomerFacts, Event
from .history import DailyPoint, Distribution, daily_history, distribution, preview_distribution
from .limits import LimitReached, ProfileCounts, check_can_create_draft, check_can_publish
from .profile import (
    Bands,
    Decay,
    EventRule,
    Group,
    Profile,
    ProfileInvalid,
    PropertyRule,
    applies_to,
    prepare_profile,
    validate_profile,
)
from .scoring import GroupResult, RuleMatch, ScoreResult, score
from .templates import TEMPLATES, starter_profile

__all__ = [
    "AT_RISK", "HEALTHY", "NEUTRAL", "band",
    "CAUSE_TIME", "ScoreChange", "diff", "event_cause", "is_alert", "profile_cause",
    "Condition",
    "Explanation", "GroupExplanation", "explain",
    "CustomerFacts", "Event",
    "DailyPoint", "Distribution", "daily_history", "distribution", "preview_distribution",
    "LimitReached", "ProfileCounts", "check_can_create_draft", "check_can_publish",
    "Bands", "Decay", "EventRule", "Group", "Profile", "ProfileInvalid", "PropertyRule",
    "applies_to", "prepare_profile", "validate_profile",
    "GroupResult", "RuleMatch", "ScoreResult", "score",
    "TEMPLATES", "starter_profile",
]
