"""Wiring: the only place that builds adapters. `inovda-notification` runs `main()`."""

import asyncio
import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from faststream import FastStream
from faststream.rabbit import RabbitBroker

from inovda_shared.contracts.events import NotificationFailed, NotificationSent
from inovda_shared.logs import configure_logging
from inovda_shared.mongo import connect
from inovda_shared.observability import COMMAND_COUNTER
from inovda_shared.outbox import OutboxRelay
from inovda_shared.provenance import DeadLetterSeal
from inovda_shared.runtime import DOCUMENTED_BROKER, instance_name, new_broker, service_app
from inovda_shared.topology import NOTIFICATION_QUEUE

from .adapters.smtp import SmtpConfig, SmtpSender
from .adapters.store import CommitMarks, NotificationStore
from .delivery import (
    CommittingSender,
    Delivery,
    EmailAttempts,
    FirstAttempts,
    Holding,
    OutcomePublisher,
    Sender,
    SendingLimits,
    owner_token,
)
from .domain import IndexEmailRule, IndexEmailRules, ReminderSchedule, Renderer, RetryPolicy
from .domain.quotas import Limits
from .handlers import build_router
from .office import IndexEmails
from .scheduler import Scheduler
from .service import NotificationService
from .settings import NotificationSettings


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def build_delivery(
    settings: NotificationSettings,
    store: NotificationStore,
    marks: CommitMarks,
    sender: Sender,
    relay: OutboxRelay,
    broker: RabbitBroker,
    clock: Callable[[], dt.datetime] = now,
) -> Delivery:
    """The delivery of emails, assembled (also by the tests that run a replica's delivery alone)."""
    committing = CommittingSender(sender, marks)
    limits = SendingLimits(
        store,
        Limits.of(
            settings.rate_limit_per_domain_per_minute,
            settings.rate_limit_global_per_minute,
            settings.email_quota_per_source_per_day,
            ZoneInfo(settings.timezone),
        ),
    )
    outcomes = OutcomePublisher(store.outbox, relay, broker)
    policy = RetryPolicy.of(settings.smtp_max_attempts, settings.smtp_first_backoff_seconds)
    attempts = EmailAttempts(store, committing, limits, outcomes, policy)
    first = FirstAttempts(store, committing, marks.instance, limits, outcomes, policy, clock)
    holding = Holding(
        store,
        clock,
        owner_token(marks.instance),
        settings.heartbeat_interval_seconds,
        settings.replica_dead_after_seconds,
    )
    return Delivery(store, attempts, clock, first, holding)


def index_email_rules(settings: NotificationSettings) -> IndexEmailRules:
    def seconds(value: float | None, otherwise: float) -> dt.timedelta:
        return dt.timedelta(seconds=otherwise if value is None else value)

    def rule(quiet: float | None, min_gap: float | None, settle: float | None) -> IndexEmailRule:
        return IndexEmailRule(
            seconds(quiet, settings.index_quiet_seconds),
            seconds(min_gap, settings.index_min_gap_seconds),
            seconds(settle, settings.index_predicate_settle_seconds),
        )

    overrides = {
        where: rule(own.quiet_seconds, own.min_gap_seconds, own.predicate_settle_seconds)
        for where, own in settings.index_email_rules.items()
    }
    return IndexEmailRules(rule(None, None, None), overrides)


def create_app(settings: NotificationSettings) -> FastStream:
    broker = new_broker(settings, "notification")
    mongo = connect(settings.mongodb_url)
    database = mongo[settings.mongodb_database]
    store = NotificationStore(database, settings.contact_cache_seconds)
    relay = OutboxRelay(
        [store.outbox], broker, settings.outbox_relay_interval_seconds, settings.outbox_relay_grace_seconds
    )
    sender = SmtpSender(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        ),
        settings.smtp_pool_size,
    )
    # Not closed on shutdown: a send that outlived the drain may still be writing its mark from its thread,
    # and a mark cut off by a closing client could be stored without the email going out. Exiting closes it.
    marks = CommitMarks(settings.mongodb_url, settings.mongodb_database, instance_name(settings), [COMMAND_COUNTER])
    delivery = build_delivery(settings, store, marks, sender, relay, broker)
    renderer = Renderer()
    schedules = {
        key: ReminderSchedule(config.deadline, tuple(config.dates) if config.dates else None)
        for key, config in settings.reminder_schedules.items()
    }
    timezone = ZoneInfo(settings.timezone)
    office = IndexEmails(store, delivery, renderer, index_email_rules(settings), timezone, now)
    score_window = dt.timedelta(seconds=settings.score_email_window_seconds)
    service = NotificationService(store, delivery, renderer, now, office, score_window, schedules)
    seal = DeadLetterSeal()
    broker.include_router(build_router(service, seal))
    scheduler = Scheduler(store, delivery, renderer, schedules, timezone, settings.digest_weekday)

    async def prepare() -> None:
        await store.ensure_indexes()
        await seal.load(database)

    async def deliver_loop() -> None:
        await delivery.run(settings.delivery_interval_seconds)

    async def schedule_loop() -> None:
        await scheduler.run(now, settings.schedule_interval_seconds)

    return service_app(
        "notification",
        settings,
        broker,
        mongo,
        NOTIFICATION_QUEUE,
        prepare,
        background=[relay.run, deliver_loop, schedule_loop, delivery.holding.run],
        drain=[office.drain, delivery.drain],
        publishes=[(model.routing_key, model) for model in (NotificationSent, NotificationFailed)],
    )


def asyncapi_app() -> FastStream:
    """The app as `faststream docs gen --factory` documents it (`make asyncapi`): nothing is connected."""
    return create_app(NotificationSettings(amqp_url=DOCUMENTED_BROKER, instance_name="asyncapi"))


def main() -> None:
    settings = NotificationSettings()
    configure_logging(settings.log_level, service="notification")
    asyncio.run(create_app(settings).run())
