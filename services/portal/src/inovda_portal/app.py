"""Wiring: the only place that builds adapters. `inovda-portal` runs `main()`.

One process consumes the portal's queue and serves the pages: the FastAPI application's lifespan starts the
FastStream broker (its handlers are FastStream's own, as in every service) and stops it, draining what is in
flight, when uvicorn is stopped (SIGTERM).
"""

import contextlib
import datetime as dt
import logging
import signal
from collections.abc import AsyncIterator, Iterator
from zoneinfo import ZoneInfo

import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from faststream import FastStream
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI
from starlette.middleware.sessions import SessionMiddleware

from inovda_shared.contracts.intake import InnovationReport, InnovationVerification
from inovda_shared.logs import configure_logging
from inovda_shared.mongo import connect
from inovda_shared.observability import Readiness
from inovda_shared.provenance import DeadLetterSeal
from inovda_shared.runtime import DOCUMENTED_BROKER, DRAIN_SECONDS, new_broker
from inovda_shared.topology import PORTAL_QUEUE, declare_topology

from .adapters.intake import INTAKE, IntakePublisher, broker_user
from .adapters.passwords import Passwords
from .adapters.store import PortalStore
from .handlers import build_router
from .pages import (
    SESSION_COOKIE,
    STATIC_FILES,
    LoginThrottle,
    Portal,
    build_pages,
    install_error_pages,
    security_headers,
    templates_for,
)
from .service import Accounts, Projection, Reporting
from .settings import PortalSettings
from .views import PortalViews

log = logging.getLogger("inovda.portal")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def portal_broker(settings: PortalSettings, store: PortalStore, seal: DeadLetterSeal) -> RabbitBroker:
    broker = new_broker(settings, "portal")
    broker.include_router(build_router(Projection(store, now), seal))
    # What people report and decide in the portal goes to the intake, as any outside system's reports do.
    for model in (InnovationReport, InnovationVerification):
        title = f"{INTAKE.name}:{model.routing_key}"
        broker.publisher(exchange=INTAKE, routing_key=model.routing_key, schema=model, title=title)
    return broker


def create_app(settings: PortalSettings) -> FastAPI:
    mongo = connect(settings.mongodb_url)
    database = mongo[settings.mongodb_database]
    store = PortalStore(database)
    seal = DeadLetterSeal()
    broker = portal_broker(settings, store, seal)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await store.ensure_indexes()
        await seal.load(database)
        await broker.connect()
        await declare_topology(broker, (PORTAL_QUEUE,))
        await broker.start()
        log.info("portal consuming %s; pages, health and metrics on port %d", PORTAL_QUEUE.name, settings.http_port)
        try:
            yield
        finally:
            await broker.stop()  # stops consuming, lets the handlers in flight finish (up to DRAIN_SECONDS)
            await mongo.close()

    portal = Portal(
        views=PortalViews(store, settings.intake_source, now, ZoneInfo(settings.timezone)),
        accounts=Accounts(store, Passwords(), now),
        reporting=Reporting(
            store, IntakePublisher(broker, broker_user(settings.amqp_url)), settings.intake_source, now
        ),
        readiness=Readiness(broker, mongo),
        settings=settings,
        templates=templates_for(settings),
        throttle=LoginThrottle(settings.login_attempts, settings.login_attempts_per_address),
    )
    app = FastAPI(title="Inovda portal", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.middleware("http")(security_headers)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.session_hours * 3600),
        same_site="lax",
        https_only=settings.session_cookie_secure,
    )
    app.include_router(build_pages(portal))
    app.mount("/static", StaticFiles(directory=str(STATIC_FILES)), name="static")
    install_error_pages(app, portal)
    app.state.portal = portal
    app.state.broker = broker
    return app


class _Server(uvicorn.Server):
    """uvicorn's server, except that a SIGTERM it shut down for gracefully ends the process with status 0, as
    every Inovda service's does (uvicorn raises the signal again once it is done, which ends it with -15)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def main() -> None:
    settings = PortalSettings()
    configure_logging(settings.log_level, service="portal")
    config = uvicorn.Config(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=int(DRAIN_SECONDS),
        proxy_headers=False,
    )
    _Server(config).run()


def asyncapi_app() -> FastStream:
    """What the portal consumes, as `faststream docs gen --factory` documents it (`make asyncapi`); its pages
    are HTTP and not part of it. Nothing is connected."""
    settings = PortalSettings(amqp_url=DOCUMENTED_BROKER, instance_name="asyncapi", session_secret="documented")
    store = PortalStore(connect(settings.mongodb_url)[settings.mongodb_database])
    broker = portal_broker(settings, store, DeadLetterSeal())
    specification = AsyncAPI(title="Inovda portal", version="1.0.0", schema_version="3.0.0")
    return FastStream(broker, specification=specification)
