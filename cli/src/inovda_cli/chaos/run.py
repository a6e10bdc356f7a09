"""One run: the infrastructure and replicas up, the waves of load under the faults, everything settled, the
emails in doubt reconciled as an operator would, then every check, written as JSON under var/chaos/."""

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from inovda_notification.adapters.store import NotificationStore
from inovda_notification.views import NotificationViews
from inovda_shared.mongo import connect
from inovda_shared.topology import SERVICE_QUEUES

from ..deadletters import request_email_resends
from .checks import Check, sample, verify
from .cluster import Cluster
from .dataset import Dataset, Intake
from .faults import Injector
from .forms import DATABASES, OUT, SERVICES, Options, now, regions_of
from .infra import wait_for
from .load import Load
from .report import summarize
from .watcher import WATCH_QUEUE, Watcher


async def reconcile_in_doubt(cluster: Cluster, watcher: Watcher, within: float = 120) -> dict[str, Any]:
    """What an operator does with the emails a crash left in doubt (`notification.sent` with `confirmed:
    false`: the process died between the commit mark and the server's answer): look each up in the mail
    server's log, and ask for those it does not have to be sent again (`inovda emails resend`)."""
    keys = sorted(
        {
            str(event.body["dedupe_key"])
            for event in watcher.of("notification.sent")
            if event.body.get("confirmed") is False
        }
    )
    received = {item.dedupe_key for item in cluster.mail.received}
    absent = [key for key in keys if key not in received]
    if absent:
        await request_email_resends(cluster.rabbit.url(), absent)
        with contextlib.suppress(TimeoutError):  # what did not come is reported as missing by the check
            await wait_for("the resent emails", lambda: _all_received(cluster, absent), within, every=0.5)
    print(
        f"  emails in doubt: {len(keys)}, of which the mail server did not have {len(absent)}: resent", file=sys.stderr
    )
    return {"in_doubt": len(keys), "not_at_the_mail_server": len(absent), "keys_resent": absent}


async def _all_received(cluster: Cluster, keys: list[str]) -> bool:
    received = {item.dedupe_key for item in cluster.mail.received}
    return all(key in received for key in keys)


async def settle(cluster: Cluster, watcher: Watcher, load: Load, within: float, quiet: float = 25.0) -> float:
    """Until every message is answered, the work queues and the watch queue are empty, nothing new has come out
    (events or emails) for `quiet` seconds, and the sent log holds no email still to settle: the outbox relay
    and email retries have had their turn, and an email an attempt left committing has been looked at."""
    started = now()
    emails = len(cluster.mail.received)
    emails_at = now()
    client = connect(cluster.ferret.url)
    sent_log = NotificationViews(NotificationStore(client[DATABASES["notification"]]))
    try:
        while now() - started < within:
            if len(cluster.mail.received) != emails:
                emails, emails_at = len(cluster.mail.received), now()
            answered = set(load.dataset.intakes) <= watcher.answered
            depths = await cluster.rabbit.queue_depths()
            empty = all(depths.get(spec.name, 0) == 0 for spec in SERVICE_QUEUES) and depths.get(WATCH_QUEUE, 0) == 0
            rested = answered and empty and now() - max(watcher.last_at, emails_at) > quiet
            if rested and not await sent_log.unsettled_emails():
                break
            await asyncio.sleep(2)
    finally:
        await client.close()
    return now() - started


@contextlib.asynccontextmanager
async def running(cluster: Cluster) -> AsyncIterator[Cluster]:
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.stop()


async def run(options: Options) -> dict[str, Any]:
    form, seed = options.form, options.seed
    started_at = dt.datetime.now(dt.UTC)
    stamp = started_at.strftime("%Y%m%d-%H%M%S")
    out = options.checkout / OUT
    run_dir = out / f"run-{stamp}-{os.getpid()}"
    rng = random.Random(seed)
    cluster = Cluster(run_dir, options.checkout, regions_of(form), options.env)
    t0 = now()
    print(f"chaos ({form.name}, seed {seed}): infrastructure under {run_dir}", file=sys.stderr)
    async with running(cluster):
        watcher = Watcher(cluster.rabbit.url())
        await watcher.start()
        sources = {source: user for user, source in cluster.access["outside_systems"].items()}
        dataset = Dataset(form, rng, sources)
        load = Load(cluster, watcher, dataset, form)
        await load.wave("registrations", dataset.registrations())
        injector = Injector(cluster, watcher, load, form, random.Random(seed + 1))  # the fault order
        faults = asyncio.create_task(injector.run())
        wave1 = dataset.wave1()
        await load.wave("reports", wave1)
        wave2 = dataset.later_wave(wave1, watcher.answered, 0.4, 2)
        await load.wave("revisions", wave2)
        await load.wave("more revisions", dataset.later_wave(wave2, watcher.answered, 0.3, 3))
        await faults
        await load.finish()
        # Before the redelivery: everything scored, so that an older revision really arrives after a newer one.
        await settle(cluster, watcher, load, form.settle_seconds, quiet=12)
        redelivery = await load.redeliver()
        settle_seconds = await settle(cluster, watcher, load, form.settle_seconds)
        in_doubt = await reconcile_in_doubt(cluster, watcher)
        await watcher.stop()
        await load.close()
        ready = {replica.name: await replica.ready() for replica in cluster.replicas}
        exit_codes = await cluster.stop_replicas()
        checks = await verify(cluster, watcher, load, redelivery, ready, exit_codes)
    duration = now() - t0
    lost = sum(check.lost for check in checks)
    duplicated = sum(check.duplicated for check in checks)
    by_kind = summarize(injector.done)
    redelivered = {
        "intake exact duplicates": sum(max(0, intake.published - 1) for intake in dataset.intakes.values()),
        "of which an older revision after a newer one": sum(
            intake.published - 1
            for intake in dataset.intakes.values()
            if intake.published > 1 and _superseded(intake, dataset)
        ),
        "event copies (answers, submitted, scored, index)": redelivery["copies"],
        "innovation.submitted of revision 1 after a newer one": len(redelivery["late_older_revisions"]),
    }
    planned = form.faults_per_kind * (2 * len(SERVICES) + 3)
    checks.append(
        Check(
            "every fault injected as planned and recovered from (services reconnected by themselves)",
            len(injector.done) == planned and all(fault.ok for fault in injector.done),
            f"{len(injector.done)} of {planned} injected; failed: "
            + (sample(f"{f.kind} {f.target} {f.detail}" for f in injector.done if not f.ok) or "none"),
        )
    )
    json_path = options.json_path or out / f"chaos-{form.name}-{stamp}.json"
    result: dict[str, Any] = {
        "form": form.name,
        "seed": seed,
        "started_at": started_at.isoformat(),
        "duration_seconds": round(duration, 1),
        "settle_seconds": round(settle_seconds, 1),
        "waves_seconds": load.waves,
        "run_dir": str(run_dir),
        "json": str(json_path),
        "figures": {
            "messages": len(dataset.intakes),
            "publishes": sum(intake.published for intake in dataset.intakes.values()),
            "malformed": sum(intake.expect == "rejected" for intake in dataset.intakes.values()),
            "innovations": len(dataset.innovations),
            "events": len(watcher.events),
            "event_deliveries": sum(watcher.copies.values()),
            "watch_consumer_restored": watcher.consumers_restored,
            "emails": len(cluster.mail.received),
            "faults": len(injector.done),
            "publisher_retries": sum(p.retries for p in load.publishers.values()),
            "lost": lost,
            "duplicated": duplicated,
        },
        "faults_by_kind": by_kind,
        "redelivered": redelivered,
        "emails_in_doubt": in_doubt,
        "faults": [asdict(fault) for fault in injector.done],
        "skipped_faults": injector.skipped,
        "checks": [asdict(check) for check in checks],
        "passed": all(check.ok for check in checks) and lost == 0 and duplicated == 0,
        "form_parameters": asdict(form),
        "service_env": options.env,
        "code": await _code_state(options.checkout),
    }
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2, default=str))
    if not options.keep:
        for folder in (run_dir / "rabbitmq" / "mnesia", run_dir / "ferretdb"):
            await asyncio.to_thread(shutil.rmtree, folder, True)
    return result


async def _code_state(checkout: Path) -> dict[str, Any]:
    """The commit and the files changed since: what the services ran (they run from the working tree)."""

    async def git(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            "git", *args, cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        out, _ = await process.communicate()
        return out.decode().rstrip()

    changed = [line[3:] for line in (await git("status", "--porcelain")).splitlines()]
    return {"head": (await git("rev-parse", "HEAD")).strip(), "changed": changed}


def _superseded(intake: Intake, dataset: Dataset) -> bool:
    """A report whose innovation has a newer revision than the one it made."""
    innovation = dataset.innovations.get(intake.external_id or "")
    return innovation is not None and intake.revision is not None and intake.revision < len(innovation.revisions)
