"""The chaos suite's watcher against a real broker: it sees every event also after losing its consumer without
the client library noticing (as once after a broker restart in CI), since it looks and consumes again."""

from typing import cast

import aio_pika
import aiormq
import pytest
from faststream.rabbit import RabbitBroker

from inovda_cli.chaos.watcher import CONSUMER_CHECK_SECONDS, WATCH_QUEUE, Watcher
from inovda_shared.topology import EVENTS_EXCHANGE

pytestmark = pytest.mark.integration


async def test_the_watcher_consumes_again_when_its_queue_has_lost_its_consumer(
    clean_broker: str, publisher: RabbitBroker
) -> None:
    watcher = Watcher(clean_broker)
    await watcher.start()
    try:
        assert watcher.queue is not None
        # Cancelled on the channel underneath: the robust queue still lists the consumer, the broker has none.
        underlay = cast(aiormq.Channel, await watcher.queue.channel.get_underlay_channel())
        for tag in list(underlay.consumers):
            await underlay.basic_cancel(tag)
        await publisher.publish(b"{}", exchange=EVENTS_EXCHANGE, routing_key="test.watcher", message_id="w-1")
        seen = await watcher.until(
            lambda: any(e.message_id == "w-1" for e in watcher.events), 4 * CONSUMER_CHECK_SECONDS
        )
        assert seen, "the watcher saw nothing after losing its consumer"
        assert watcher.consumers_restored == 1
    finally:
        await watcher.stop()
        connection = await aio_pika.connect(clean_broker)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(WATCH_QUEUE, if_unused=False, if_empty=False)
