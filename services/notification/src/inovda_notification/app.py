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
from inovda_shared.outbox import OutboxRelay
from inovda_shared.provenance import DeadLetterSeal
from inovda_shared.runtime import DOCUMENTED_BROKER, instance_name, new_broker, service_app
from inovda_shared.topology import NOTIFICATION_QUEUE

from .adapters.smtp import SmtpConfig, SmtpSender
from .adapters.store import CommitMarks, NotificationStore
from .delivery import CommittingSender, Delivery, EmailAttempts, OutcomePublisher, Sender, SendingLimits
from .domain import ReminderSchedule, Renderer, RetryPolicy
from .domain.quotas import Limits
from .handlers import build_router
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
    """The delivery of recorded emails, assembled (also by the tests that run a replica's delivery alone)."""
    limits = Limits.of(
        settings.rate_limit_per_domain_per_minute,
        settings.rate_limit_global_per_minute,
        settings.email_quota_per_source_per_day,
        ZoneInfo(settings.timezone),
    )
    attempts = EmailAttempts(
        store,
        CommittingSender(sender, marks),
        SendingLimits(store, limits),
        OutcomePublisher(store.outbox, relay, broker),
        RetryPolicy.of(settings.smtp_max_attempts, settings.smtp_first_backoff_seconds),
    )
    return Delivery(store, attempts, clock)


def create_app(settings: NotificationSettings) -> FastStream:
    broker = new_broker(settings, "notification")
    mongo = connect(settings.mongodb_url)
    database = mongo[settings.mongodb_database]
    store = NotificationStore(database)
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
        )
    )
    # Not closed on shutdown: a send that outlived the drain may still be writing its mark from its thread,
    # and a mark cut off by a closing client could be stored without the email going out. Exiting closes it.
    marks = CommitMarks(settings.mongodb_url, settings.mongodb_database, instance_name(settings))
    delivery = build_delivery(settings, store, marks, sender, relay, broker)
    renderer = Renderer()
    schedules = {
        key: ReminderSchedule(config.deadline, tuple(config.dates) if config.dates else None)
        for key, config in settings.reminder_schedules.items()
    }
    service = NotificationService(store, delivery, renderer, now, schedules)
    seal = DeadLetterSeal()
    broker.include_router(build_router(service, seal))
    scheduler = Scheduler(store, delivery, renderer, schedules, ZoneInfo(settings.timezone), settings.digest_weekday)

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
        background=[relay.run, deliver_loop, schedule_loop],
        drain=[delivery.drain, service.drain],
        publishes=[(model.routing_key, model) for model in (NotificationSent, NotificationFailed)],
    )


def asyncapi_app() -> FastStream:
    """The app as `faststream docs gen --factory` documents it (`make asyncapi`): nothing is connected."""
    return create_app(NotificationSettings(amqp_url=DOCUMENTED_BROKER, instance_name="asyncapi"))


def main() -> None:
    settings = NotificationSettings()
    configure_logging(settings.log_level, service="notification")
    asyncio.run(create_app(settings).run())
