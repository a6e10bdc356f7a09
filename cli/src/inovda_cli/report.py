"""`inovda report` and `inovda status`: the region's tables and chart, and the broker's view of Inovda."""

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import aio_pika
from aiormq.exceptions import ChannelNotFoundEntity

from inovda_shared.contracts.vocabulary import UNIT_KIND_LABELS
from inovda_shared.mongo import Document
from inovda_shared.topology import SERVICE_QUEUES

from .scoring import render_compliance, render_index, render_path, scoring_library


async def region_report(mongodb_url: str, scoring_database: str, region: str, year: int, chart: Path | None) -> str:
    async with scoring_library(mongodb_url, scoring_database) as scoring:
        standing = await scoring.standing(region, year)
        rows = await scoring.compliance(region, year)
        plan = await scoring.path(region, year)
        maturities = await scoring.maturities(region, year)
    parts = [
        render_index(region, year, standing),
        render_compliance(year, rows),
        render_path(region, year, plan, verified=standing.verified is not None),
    ]
    if chart is not None:
        draw_chart(chart, region, year, rows, maturities)
        parts.append(f"Grafik: {chart}")
    return "\n\n".join(parts)


def draw_chart(
    path: Path, region: str, year: int, rows: Sequence[Document], maturities: Sequence[tuple[int, bool]]
) -> None:
    """Compliance by kind of unit, and the maturity distribution (eligible and not), side by side."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server
    from matplotlib import pyplot

    total = Counter(row["kind"] for row in rows)
    compliant = Counter(row["kind"] for row in rows if row["compliant"])
    kinds = [kind for kind in UNIT_KIND_LABELS if total[kind]]
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(12, 4.5))
    positions = range(len(kinds))
    left.bar(positions, [total[kind] for kind in kinds], color="#d9d9d9", label="Jumlah unit")
    left.bar(positions, [compliant[kind] for kind in kinds], color="#2b8cbe", label="Sudah melapor")
    left.set_xticks(list(positions), [UNIT_KIND_LABELS[kind] for kind in kinds], rotation=20, ha="right")
    left.set_title(f"Kepatuhan unit {year} per jenis")
    left.legend()
    bins = [*range(0, 111, 10), 111]  # maturity runs 0..111
    right.hist(
        [[m for m, eligible in maturities if eligible], [m for m, eligible in maturities if not eligible]],
        bins=bins,
        stacked=True,
        color=["#31a354", "#fdae6b"],
        label=["Memenuhi syarat", "Belum memenuhi syarat"],
    )
    right.set_title(f"Sebaran kematangan inovasi ({len(maturities)} inovasi)")
    right.set_xlabel("Kematangan (skor SID)")
    right.set_ylabel("Jumlah inovasi")
    right.legend()
    figure.suptitle(f"Inovasi daerah {region}, tahun penilaian {year}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


async def broker_status(amqp_url: str) -> str:
    """Each service queue: messages waiting, consumers, dead letters."""
    lines = [f"{'antrian':<24} {'menunggu':>9} {'konsumen':>9} {'surat mati':>11}"]
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for spec in SERVICE_QUEUES:
            waiting, consumers = await _queue_counts(connection, spec.name)
            dead, _ = await _queue_counts(connection, spec.dead_letter_name)
            lines.append(f"{spec.name:<24} {_count(waiting):>9} {_count(consumers):>9} {_count(dead):>11}")
    return "\n".join(lines)


async def _queue_counts(connection: aio_pika.abc.AbstractConnection, name: str) -> tuple[int | None, int | None]:
    channel = await connection.channel()
    try:
        queue = await channel.declare_queue(name, passive=True)
    except ChannelNotFoundEntity:
        return None, None  # never declared: its service has not run against this broker
    result = queue.declaration_result
    await channel.close()
    return result.message_count, result.consumer_count


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)
