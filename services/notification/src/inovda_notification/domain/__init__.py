"""Pure notification logic: which emails exist, who gets them, their dedupe keys, the reminder schedule,
their rendering from the package's Jinja2 templates, and an email's states from recorded to sent or failed.
No broker, database or SMTP here.
"""

from .email_state import EmailChange, EmailStatus, RetryPolicy, StoredEmail
from .emails import (
    KindCompliance,
    WeeklyDigest,
    compliance_by_kind,
    digest_key,
    emails_nobody,
    index_email_key,
    index_emails,
    receipt_emails,
    rejection_emails,
    rejection_recipient,
    reminder_emails,
    review_emails,
    score_emails,
    score_key,
    weekly_digest_emails,
)
from .improvements import Improvement, improvements_from_event
from .index_emails import Emailed, IndexEmailRule, IndexEmailRules, IndexMoves, IndexState, diverges, index_email_due
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
    "Emailed",
    "ExplainedReason",
    "Improvement",
    "IndexEmailRule",
    "IndexEmailRules",
    "IndexMoves",
    "IndexState",
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
    "digest_key",
    "diverges",
    "emails_nobody",
    "explain",
    "improvements_from_event",
    "index_email_due",
    "index_email_key",
    "index_emails",
    "receipt_emails",
    "region_schedule",
    "rejection_emails",
    "rejection_recipient",
    "reminder_emails",
    "reminders_due",
    "review_emails",
    "score_emails",
    "score_key",
    "weekly_digest_emails",
]
