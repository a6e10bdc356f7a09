"""Scale and kill, under load: `docker compose up --scale scoring=3 --scale notification=2` while reports come
in, then `docker kill` of one replica of each service (the busy one) mid-load, then `docker restart` of the
broker mid-load. Nothing lost, nothing doubled, the survivors carry on; the figures (recovery times, messages,
emails) go to the run's summary and the README."""

import asyncio
from typing import Any

from inovda_cli.deadletters import list_dead_letters, request_email_resends

from . import faults, outside, stack
from .outside import Consumer, Ledger, Publisher, now, problems, send, settle
from .stack import Stack

RATE = 6.0  # reports a second, about what the 2 cores turn into scores and emails as they come
PHASE_REPORTS = 60
DOWN_REPORTS = 12  # published while submission's only replica is down
SCALE = {"submission": 1, "scoring": 3, "notification": 2}


async def test_scale_up_kill_a_replica_of_each_and_restart_the_broker_during_a_load(
    system: Stack,
    observer: Consumer,
    results: dict[str, Consumer],
    publishers: dict[str, Publisher],
    figures: dict[str, Any],
) -> None:
    ledger = Ledger("64.11", "CTS")
    registrations = ledger.registrations(16)
    await send(publishers, registrations, rate=30)
    assert await outside.until(lambda: _answered(results, registrations), 120), "registrations not answered"
    figure: dict[str, Any] = {}
    figures["scale_kill_restart"] = figure  # filled as it goes: a failure still shows how far it got
    started = now()

    # 1. Scale up while reports come in.
    load = asyncio.create_task(send(publishers, ledger.reports(PHASE_REPORTS), rate=RATE))
    await asyncio.sleep(2)
    scale = ["--scale", "scoring=3", "--scale", "notification=2"]
    began = now()
    await asyncio.to_thread(
        system.compose, "up", "--detach", "--no-recreate", "--wait", "--wait-timeout", "300", *scale, timeout=360
    )
    figure["scale_up_seconds"] = round(now() - began, 1)
    replicas = {service: len(system.containers(service)) for service in SCALE}
    assert replicas == SCALE
    await load

    # 2. `docker kill` one replica of each service, the one holding deliveries, while reports come in: first
    # scoring's and notification's (their survivors carry on), then submission's only one. Docker counts a
    # `docker kill` as a manual stop (no restart policy), so the operator brings the killed ones back with
    # the same `up --scale`; until then the broker keeps submission's work.
    load = asyncio.create_task(send(publishers, ledger.reports(2 * PHASE_REPORTS), rate=RATE))
    await asyncio.sleep(3)
    kills: dict[str, dict[str, Any]] = {}
    for service in ("notification", "scoring", "submission"):
        victim, holding = await faults.busy(system, service, within=8)
        start = len(observer.seen)
        killed_at = await asyncio.to_thread(faults.kill, victim)
        kill: dict[str, Any] = {"container": victim.name, "in_process_at_kill": holding}
        kill["survivors"] = len([c for c in system.containers(service) if c.name != victim.name])
        if kill["survivors"]:
            progressed = await faults.next_event(observer, start, faults.PRODUCES[service], within=90)
            assert progressed is not None, f"{service}: its survivors published nothing after the kill"
            kill["survivors_progress_after_seconds"] = round(max(0.0, progressed.at - killed_at), 2)
        kills[service] = kill | {"at": killed_at, "start": start, "id": victim.id}
    figure["kill"] = kills
    assert stack.inspect(kills["submission"]["id"])["State"]["ExitCode"] == 137
    # Reports published while submission is down, whatever is left of the load by then: the broker keeps
    # them, and submission answers them once it is back.
    while_down = ledger.reports(DOWN_REPORTS)
    await send(publishers, while_down, rate=30)
    began = now()
    await asyncio.to_thread(
        system.compose, "up", "--detach", "--no-recreate", "--wait", "--wait-timeout", "300", *scale, timeout=360
    )
    back = now()
    figure["killed_replicas_back_and_healthy_seconds"] = round(back - began, 1)
    for kill in kills.values():
        kill["down_seconds"] = round(began - kill.pop("at"), 2)
    progressed = await faults.next_event(
        observer, kills["submission"]["start"], faults.PRODUCES["submission"], 120, after=began
    )
    assert progressed is not None, "submission published nothing after it was brought back:\n" + system.logs(
        40, "submission"
    )
    kills["submission"]["first_event_after_bringing_back_seconds"] = round(progressed.at - began, 2)
    assert await outside.until(lambda: _answered(results, while_down), 120), (
        "reports published while submission was down were not answered after it was brought back:\n"
        + system.logs(40, "submission")
    )
    kills["submission"]["reports_published_while_down_answered_seconds"] = round(now() - began, 2)
    for kill in kills.values():
        del kill["start"], kill["id"]
    await load

    # 3. Restart the broker while reports come in; nothing else is restarted: the services reconnect.
    load = asyncio.create_task(send(publishers, ledger.reports(PHASE_REPORTS), rate=RATE))
    await asyncio.sleep(3)
    (broker,) = system.containers("rabbitmq")
    services_before = {c.id: stack.inspect(c.id)["State"]["StartedAt"] for s in SCALE for c in system.containers(s)}
    began = now()
    await asyncio.to_thread(stack.run, ["docker", "restart", "--time", "60", broker.id], 120)
    restarted = now()
    start = len(observer.seen)
    broker_healthy = stack.poll("the broker healthy again", lambda: broker.health() == "healthy", 180, every=0.5)
    progressed = await faults.next_event(observer, start, ("",), within=180)
    assert progressed is not None, "no event after the broker restart"
    await faults.until_ready([c for s in SCALE for c in system.containers(s)], within=180)
    all_ready = now()
    services_after = {c.id: stack.inspect(c.id)["State"]["StartedAt"] for s in SCALE for c in system.containers(s)}
    assert services_after == services_before, "a service was restarted instead of reconnecting"
    figure["broker_restart"] = {
        "docker_restart_seconds": round(restarted - began, 2),
        "healthy_after_seconds": round(broker_healthy, 2),
        "first_event_after_seconds": round(progressed.at - restarted, 2),
        "all_services_ready_after_seconds": round(all_ready - restarted, 2),
    }
    await load
    published = now()

    # Everything out: an email a kill left in doubt (recorded as sent without the server's answer) that the
    # sink lacks is asked for again, as an operator does (`inovda emails resend`).
    outcome, completed = await settle(ledger, system.mail_dir, observer, results, within=420, quiet=5)
    in_doubt = sorted(
        {
            str(seen.body["dedupe_key"])
            for seen in observer.of("notification.sent")
            if seen.body.get("confirmed") is False and ledger.mine(str(seen.body["dedupe_key"]), _reports(ledger))
        }
    )
    absent = [key for key in in_doubt if key not in outside.emails(system.mail_dir)]
    if absent:
        await request_email_resends(system.amqp_url("inovda-operator"), absent)
    outcome, completed = await settle(ledger, system.mail_dir, observer, results, within=180, quiet=15)
    assert problems(outcome) == {}, problems(outcome)
    assert outcome["answers"] == outcome["messages"] == len(ledger.intakes)
    assert outcome["scores"] == 4 * PHASE_REPORTS + DOWN_REPORTS

    # The survivors carried on: every replica ready, none dead-lettered anything of this load.
    assert {service: len(system.containers(service)) for service in SCALE} == SCALE
    await faults.until_ready([c for s in SCALE for c in system.containers(s)], within=60)
    letters = await list_dead_letters(system.amqp_url("inovda-operator"), limit=10_000)
    assert [letter for letter in letters if ledger.tag in str(letter.body)] == []
    figure |= {
        "messages": outcome["messages"],
        "answers": outcome["answers"],
        "scores": outcome["scores"],
        "emails": outcome["emails"],
        "emails_in_doubt": len(in_doubt),
        "emails_resent": len(absent),
        "lost": 0,
        "doubled": 0,
        "publisher_retries": sum(publisher.retries for publisher in publishers.values()),
        "load_seconds": round(published - started, 1),
        "all_out_after_last_publish_seconds": round(completed - published, 1),
    }

    # Back to one replica each (compose stops the extra ones with SIGTERM and the grace period).
    await asyncio.to_thread(
        system.compose, "up", "--detach", "--wait", "--scale", "scoring=1", "--scale", "notification=1", timeout=300
    )


def _answered(results: dict[str, Consumer], batch: list[outside.Intake]) -> bool:
    answered = {str(seen.body.get("message_id")) for consumer in results.values() for seen in consumer.seen}
    return {intake.message_id for intake in batch} <= answered


def _reports(ledger: Ledger) -> set[str]:
    return {intake.external_id for intake in ledger.intakes if intake.external_id}
