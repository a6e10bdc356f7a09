"""The report: the faults summed up by kind, and the markdown table of figures, faults and checks."""

import statistics
from collections import defaultdict
from typing import Any

from .faults import Fault


def summarize(faults: list[Fault]) -> dict[str, dict[str, Any]]:
    kinds: dict[str, list[Fault]] = defaultdict(list)
    for fault in faults:
        kinds[fault.kind].append(fault)
    summary = {}
    for kind, items in sorted(kinds.items()):
        ready = [f.ready_seconds for f in items if f.ready_seconds is not None]
        progress = [f.progress_seconds for f in items if f.progress_seconds is not None]
        summary[kind] = {
            "count": len(items),
            "failed": sum(not f.ok for f in items),
            "outage_seconds_median": round(statistics.median(f.outage_seconds for f in items), 2),
            "ready_seconds_max": max(ready) if ready else None,
            "progress_seconds_median": round(statistics.median(progress), 2) if progress else None,
            "progress_seconds_max": max(progress) if progress else None,
        }
    return summary


def render_report(result: dict[str, Any]) -> str:
    figures = result["figures"]
    lines = [
        f"## Chaos run: {result['form']} form, seed {result['seed']}, {result['duration_seconds']:.0f} s",
        "",
        "| figure | value |",
        "|---|---|",
        f"| intake messages sent: distinct (publishes) | {figures['messages']} ({figures['publishes']}) |",
        f"| of which malformed | {figures['malformed']} |",
        f"| events observed: distinct (deliveries) | {figures['events']} ({figures['event_deliveries']}) |",
        f"| emails received | {figures['emails']} |",
        f"| emails in doubt after a crash (of which not at the mail server: resent) | "
        f"{result['emails_in_doubt']['in_doubt']} ({result['emails_in_doubt']['not_at_the_mail_server']}) |",
        f"| faults injected | {figures['faults']} ({_kinds(result['faults_by_kind'])}) |",
        f"| faults skipped (time bound) | {len(result['skipped_faults'])} |",
        f"| redelivered | {', '.join(f'{what} {count}' for what, count in result['redelivered'].items())} |",
        f"| **lost** | **{figures['lost']}** |",
        f"| **duplicated effects** | **{figures['duplicated']}** |",
        "",
        "| fault | count | failed | outage (median) | all ready after (max) | progress after (median / max) |",
        "|---|---|---|---|---|---|",
    ]
    for kind, row in result["faults_by_kind"].items():
        progress = (
            f"{row['progress_seconds_median']} / {row['progress_seconds_max']} s"
            if row["progress_seconds_max"] is not None
            else "-"
        )
        ready = f"{row['ready_seconds_max']} s" if row["ready_seconds_max"] is not None else "-"
        lines.append(
            f"| {kind} | {row['count']} | {row['failed']} | {row['outage_seconds_median']} s | {ready} | {progress} |"
        )
    lines += ["", "| check | ok | detail |", "|---|---|---|"]
    for check in result["checks"]:
        detail = " ".join(str(check["detail"]).split()).replace("|", "/")
        lines.append(f"| {check['name']} | {'yes' if check['ok'] else '**NO**'} | {detail} |")
    lines.append("")
    lines.append(f"**{'PASS' if result['passed'] else 'FAIL'}**: {result['json']}")
    return "\n".join(lines)


def _kinds(by_kind: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{kind} {row['count']}" for kind, row in by_kind.items())
