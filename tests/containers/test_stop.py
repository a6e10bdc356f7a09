"""`docker stop` (SIGTERM, then SIGKILL after the grace period) of each service while it holds deliveries: it
finishes them and exits 0 well within the grace period, and once started again nothing is lost or doubled."""

import asyncio
from typing import Any

import pytest

from . import faults, stack
from .outside import Consumer, Ledger, Publisher, now, problems, send, settle, until
from .stack import Stack

# The services that consume the broker's queues (a service image without one, such as a web portal, has no
# deliveries to drain).
SERVICES = [service for service in stack.service_dockerfiles() if service in faults.PRODUCES]


@pytest.mark.parametrize("service", SERVICES)
async def test_docker_stop_finishes_the_messages_in_flight_and_exits_0(
    service: str,
    system: Stack,
    observer: Consumer,
    results: dict[str, Consumer],
    publishers: dict[str, Publisher],
    figures: dict[str, Any],
) -> None:
    number = SERVICES.index(service)
    ledger = Ledger(f"64.2{number}", f"CTD{number}")
    registrations = ledger.registrations(4)
    await send(publishers, registrations, rate=30)
    ids = {intake.message_id for intake in registrations}
    assert await until(lambda: ids <= {str(s.body.get("message_id")) for c in results.values() for s in c.seen}, 120)
    load = asyncio.create_task(send(publishers, ledger.reports(40), rate=20))
    victim, holding = await faults.busy(system, service, within=20)
    assert holding > 0, f"{service} held no deliveries while the reports came in: nothing to drain"
    began = now()
    await asyncio.to_thread(
        stack.run, ["docker", "stop", "--time", str(stack.GRACE_SECONDS), victim.id], stack.GRACE_SECONDS + 60
    )
    stopped = now() - began
    state = stack.inspect(victim.id)["State"]
    assert state["ExitCode"] == 0, f"{service} exited with {state['ExitCode']} (137: killed after the grace period)"
    assert stopped < stack.GRACE_SECONDS
    await asyncio.to_thread(stack.run, ["docker", "start", victim.id], 60)
    ready_after = await faults.until_ready([victim], within=120)
    await load
    outcome, _ = await settle(ledger, system.mail_dir, observer, results, within=300)
    assert problems(outcome) == {}, problems(outcome)
    assert outcome["scores"] == 40
    figures.setdefault("docker_stop", {})[service] = {
        "in_process_at_stop": holding,
        "stop_seconds": round(stopped, 2),
        "exit_code": state["ExitCode"],
        "ready_after_start_seconds": ready_after,
        "messages": outcome["messages"],
        "emails": outcome["emails"],
    }
