"""Pure notification logic: which emails exist, who gets them, their dedupe keys, the reminder schedule,
their rendering from the package's Jinja2 templates, and an email's states from recorded to sent or failed.
No broker, database or SMTP here.
"""

from .email_state import EmailChange, EmailStatus, RetryPolicy, StoredEmail
from .emails import (
    KindCompliance,
    WeeklyDigest,
    compliance_by_kind,
    emails_nobody,
    predicate_change_emails,
    predicate_changed,
    receipt_emails,
    rejection_emails,
    rejection_recipient,
    reminder_emails,
    review_emails,
    score_emails,
    weekly_digest_emails,
)
from .improvements import Improvement, improvements_from_event
from .model import EmailKind, EmailMessage, RegionContact, UnitContact
from .reasons import EXPLANATIONS, ExplainedReason, explain
from .rendering import RenderedBody, Renderer
from .schedule import FINAL_STAGE_ID, ReminderSchedule, ReminderStage, region_schedule, reminders_due

__all__ = [
    "EXPLANATIONS",
    "FINAL_STAGE_ID",
    "EmailChange",
    "EmailKind",
    "EmailMessage",
    "EmailStatus",
    "ExplainedReason",
    "Improvement",
    "KindCompliance",
    "RegionContact",
    "ReminderSchedule",
    "ReminderStage",
    "RenderedBody",
    "Renderer",
    "RetryPolicy",
    "StoredEmail",
    "UnitContact",
    "WeeklyDigest",
    "compliance_by_kind",
    "emails_nobody",
    "explain",
    "improvements_from_event",
    "predicate_change_emails",
    "predicate_changed",
    "receipt_emails",
    "region_schedule",
    "rejection_emails",
    "rejection_recipient",
    "reminder_emails",
    "reminders_due",
    "review_emails",
    "score_emails",
    "weekly_digest_emails",
]
