"""Health, metrics and tracing, the same in every service.

- `/health/live`: the process answers.
- `/health/ready`: the broker connection is up, every consumer of this process is registered on an open
  channel (after a broker restart, only once the consumer is restored), and MongoDB answers a ping.
- `/metrics`: FastStream's Prometheus middleware (messages, durations, sizes), the dead letters, and each
  service's own counters (its `adapters/metrics.py`, in this `REGISTRY`).
- Tracing: FastStream's OpenTelemetry middleware, the trace context in message headers, so one trace runs
  from an intake message to the email it causes; exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
"""

import json
import os
from typing import Any

from faststream.rabbit import RabbitBroker
from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from pymongo import AsyncMongoClient, monitoring

from .http import Response

REGISTRY = CollectorRegistry()

DEAD_LETTERS = Counter("inovda_dead_letters", "Messages dead-lettered, by queue", ["queue"], registry=REGISTRY)
MONGODB_COMMANDS = Counter(
    "inovda_mongodb_commands", "Database commands this process sent, by command", ["command"], registry=REGISTRY
)


class CommandCounter(monitoring.CommandListener):
    """Counts every command of the clients it is given to (`make bench` reads the count per innovation)."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        MONGODB_COMMANDS.labels(command=event.command_name).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


COMMAND_COUNTER = CommandCounter()


def prometheus_middleware(service: str) -> RabbitPrometheusMiddleware:
    return RabbitPrometheusMiddleware(registry=REGISTRY, app_name=service, metrics_prefix="faststream")


def telemetry_middlewares(service: str) -> list[Any]:
    """FastStream's tracing middleware: a span per message handled and published, the trace context carried
    in message headers. Spans are exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise
    they go to whatever tracer provider the process has (none by default, which costs next to nothing)."""
    from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware

    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: f"inovda-{service}"}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    return [RabbitTelemetryMiddleware()]


async def metrics() -> Response:
    return Response(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)


async def live() -> Response:
    return Response(200, b'{"status": "live"}', "application/json")


class Readiness:
    def __init__(self, broker: RabbitBroker, mongo: AsyncMongoClient[Any]) -> None:
        self._broker = broker
        self._mongo = mongo

    async def check(self) -> dict[str, bool]:
        return {
            "broker": await self._broker.ping(timeout=1),
            "consuming": self._consuming(),
            "mongodb": await self._mongodb(),
        }

    async def respond(self) -> Response:
        checks = await self.check()
        body = json.dumps({"ready": all(checks.values()), **checks}).encode()
        return Response(200 if all(checks.values()) else 503, body, "application/json")

    def _consuming(self) -> bool:
        subscribers = list(self._broker.subscribers)
        return bool(subscribers) and all(_consumer_registered(subscriber) for subscriber in subscribers)

    async def _mongodb(self) -> bool:
        try:
            await self._mongo.admin.command("ping")
        except Exception:
            return False
        return True


def _consumer_registered(subscriber: Any) -> bool:
    # FastStream keeps the aio-pika queue and the consumer tag of a running subscriber; aio-pika restores
    # the consumer on a new channel after a reconnect. Ready means that consumer is live on an open channel.
    queue = getattr(subscriber, "_queue_obj", None)
    tag = getattr(subscriber, "_consumer_tag", None)
    if queue is None or tag is None:
        return False
    try:
        channel = queue.channel.channel  # the raw aiormq channel; raises while closed
    except Exception:
        return False
    return not channel.is_closed and tag in channel.consumers
