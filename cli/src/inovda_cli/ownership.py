"""Moving a unit, or a region's profile for a year, to another source (`inovda units transfer`).

A unit or profile belongs to the source that first registered it; only that source may change it. The
submission service owns its database, so the operator does not write there: it sends the service a command,
`ownership.transfer.v1`, on `inovda.intake` as its own broker user (`user_id`, which `SOURCE_USERS` maps to
the source `operator`), and the service answers it like any intake message, on `intake.*.operator`, which
the operator reads from `results.operator`.
"""

import asyncio
import json
import uuid

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractQueue
from aiormq.exceptions import ChannelAccessRefused, ChannelNotFoundEntity
from yarl import URL

from inovda_shared.contracts.commands import OwnershipTransfer
from inovda_shared.contracts.events import INTAKE_ACCEPTED, INTAKE_REJECTED, OPERATOR_SOURCE, IntakeAnswer
from inovda_shared.topology import EVENTS_EXCHANGE, INTAKE_EXCHANGE

from .broker_access import results_queue

OPERATOR_RESULTS = results_queue(OPERATOR_SOURCE)


async def transfer(
    amqp_url: str,
    region_code: str,
    to_source: str,
    unit_code: str | None = None,
    year: int | None = None,
    wait_seconds: float = 30.0,
) -> IntakeAnswer:
    """Ask the submission service to move the unit (`unit_code`) or the profile (`year`) to `to_source`, and
    wait for its answer. A ValueError for a command that could not be valid; a LookupError without an answer."""
    command = OwnershipTransfer(
        source=OPERATOR_SOURCE, region_code=region_code, unit_code=unit_code, year=year, to_source=to_source
    )
    message_id = f"transfer:{uuid.uuid4().hex}"
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        answers = await _results(connection)
        channel = await connection.channel(publisher_confirms=True)
        intake = await channel.get_exchange(INTAKE_EXCHANGE.name, ensure=False)
        await intake.publish(
            aio_pika.Message(
                command.model_dump_json().encode(),
                content_type="application/json",
                message_id=message_id,
                user_id=URL(amqp_url).user,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=OwnershipTransfer.routing_key,
        )
        try:
            return await asyncio.wait_for(_answer_to(answers, message_id), wait_seconds)
        except TimeoutError as exc:
            raise LookupError(
                f"no answer to {message_id} within {wait_seconds:.0f} s (is inovda-submission running?); it may "
                f"still come, in {OPERATOR_RESULTS}"
            ) from exc


async def _results(connection: aio_pika.abc.AbstractConnection) -> AbstractQueue:
    """The operator's results queue: the broker's definitions have it; a development broker gets it here."""
    try:
        return await (await connection.channel()).get_queue(OPERATOR_RESULTS, ensure=True)
    except ChannelNotFoundEntity:
        pass
    channel = await connection.channel()
    try:
        return await _declare_results(channel)
    except ChannelAccessRefused as exc:
        raise LookupError(
            f"the broker has no queue {OPERATOR_RESULTS} for the operator's answers, and this user may not make "
            "one: import the broker's definitions (inovda broker-definitions)"
        ) from exc


async def _declare_results(channel: AbstractChannel) -> AbstractQueue:
    queue = await channel.declare_queue(OPERATOR_RESULTS, durable=True, arguments={"x-queue-type": "quorum"})
    events = await channel.get_exchange(EVENTS_EXCHANGE.name, ensure=False)
    for status in (INTAKE_ACCEPTED, INTAKE_REJECTED):
        await queue.bind(events, routing_key=f"{status}.{OPERATOR_SOURCE}")
    return queue


async def _answer_to(answers: AbstractQueue, message_id: str) -> IntakeAnswer:
    """The answer to `message_id`, acknowledged; any other answer is left to whoever waits for it."""
    async with answers.iterator() as messages:
        async for message in messages:
            try:
                body = json.loads(message.body)
            except ValueError:
                continue
            if isinstance(body, dict) and body.get("message_id") == message_id:
                await message.ack()
                return IntakeAnswer.model_validate(body)
    raise LookupError(f"{OPERATOR_RESULTS} was closed before the answer to {message_id} came")


def describe(answer: IntakeAnswer, to_source: str) -> str:
    """The answer in words, for the operator."""
    key = answer.key
    what = (
        f"unit {key.get('region_code')}/{key['unit_code']}"
        if "unit_code" in key
        else (f"profil wilayah {key.get('region_code')} tahun {key.get('year')}")
    )
    if answer.status == "rejected":
        reasons = "; ".join(f"{reason.code}: {reason.message}" for reason in answer.reasons)
        return f"pemindahan {what} ditolak: {reasons}"
    if answer.unchanged:
        return f"{what} sudah milik sumber '{to_source}' (versi {answer.revision}); tidak ada yang berubah"
    return f"{what} kini milik sumber '{to_source}' (versi {answer.revision})"
