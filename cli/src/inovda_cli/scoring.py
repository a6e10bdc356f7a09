"""The scoring questions an operator asks: where does the region stand, what would lift it, what if.

These read the scoring service's store through its own queries (`ScoringViews`), never by hand.
Texts are in Bahasa Indonesia: they are read by the innovation office.
"""

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from pydantic import TypeAdapter

from inovda_scoring.adapters.store import ScoringStore
from inovda_scoring.domain import IndexFigures, PathPlan, WhatIfChange
from inovda_scoring.views import ScoringViews, Standing
from inovda_shared.indonesian import format_number, format_points
from inovda_shared.mongo import Document, connect

CHANGES = TypeAdapter(WhatIfChange)


@asynccontextmanager
async def scoring_library(mongodb_url: str, database: str) -> AsyncIterator[ScoringViews]:
    client = connect(mongodb_url)
    try:
        yield ScoringViews(ScoringStore(client[database]))
    finally:
        await client.close()


def parse_changes(texts: Sequence[str]) -> list[WhatIfChange]:
    """Each text a JSON object, e.g. {"change": "set_spd_level", "indicator_id": "6", "level": 3}."""
    return [CHANGES.validate_json(text) for text in texts]


def render_index(region_code: str, year: int, standing: Standing) -> str:
    """The index as claimed and, once the region has started verifying, as verified."""
    figures = standing.claimed
    lines = [
        f"Wilayah {region_code}, tahun penilaian {year}",
        f"IID {format_number(figures.iid)} ({figures.predicate})"
        + (" menurut klaim unit" if standing.verified else ""),
        f"  SPD {format_number(figures.spd)}; {figures.n} inovasi memenuhi syarat; pembagi {figures.divisor}; "
        f"rata-rata kematangan {format_number(figures.average_maturity)}; "
        f"skor jumlah inovasi {format_number(figures.count_score)}",
        f"  urusan pelayanan dasar tercakup: {', '.join(figures.yandas_covered) or '-'}",
        f"  belum tercakup: {', '.join(figures.yandas_missing) or '-'}",
    ]
    verified, review = standing.verified, standing.review
    if verified is None or review is None:
        lines.append("Verifikasi data dukung belum dimulai: IID terverifikasi belum ada.")
        return "\n".join(lines)
    lines += [
        f"IID terverifikasi {format_number(verified.iid)} ({verified.predicate}): hanya level yang diterima "
        f"pemverifikasi; poin berisiko {format_points(standing.points_at_risk or 0)}",
        f"  {verified.n} inovasi memenuhi syarat setelah verifikasi; rata-rata kematangan "
        f"{format_number(verified.average_maturity)}",
        f"  kemajuan verifikasi: {review.decided} dari {review.total} indikator diputuskan "
        f"({format_number(100 * review.share)}%), {review.round} putaran",
    ]
    return "\n".join(lines)


def render_compliance(year: int, rows: Sequence[Document]) -> str:
    compliant = sum(1 for row in rows if row["compliant"])
    lines = [
        f"Kepatuhan unit {year}: {compliant} dari {len(rows)} unit sudah melaporkan inovasi (yang belum, lebih dulu)",
        f"{'Unit':<48} {'Jenis':<10} {'Inovasi':>7} {'Memenuhi syarat':>15}  Status",
    ]
    for row in rows:
        status = "sudah" if row["compliant"] else "BELUM"
        lines.append(
            f"{row['name'][:48]:<48} {row['kind']:<10} {row['innovations']:>7} {row['eligible']:>15}  {status}"
        )
    return "\n".join(lines)


def render_path(region_code: str, year: int, plan: PathPlan, *, verified: bool = False) -> str:
    """`verified`: the plan starts from the verified IID (the region has started verifying)."""
    which = "IID terverifikasi" if verified else "IID"
    lines = [
        f"Wilayah {region_code}, tahun penilaian {year}: {which} {format_number(plan.start_iid)} "
        f"({plan.start_predicate})"
    ]
    if plan.target_predicate is None:
        lines.append("Sudah berada di predikat tertinggi.")
        return "\n".join(lines)
    lines.append(f"Target: {plan.target_predicate} (IID minimal {format_number(plan.target_iid or 0)})")
    width = max((len(step.description) for step in plan.steps), default=10)
    lines.append(f"{'#':>3}  {'Langkah':<{width}}  {'+IID':>6}  {'IID':>6}")
    for number, step in enumerate(plan.steps, start=1):
        gain, after = format_number(step.gain), format_number(step.iid_after)
        lines.append(f"{number:>3}  {step.description:<{width}}  {gain:>6}  {after:>6}")
    outcome = "tercapai" if plan.reached else "belum tercapai"
    lines.append(
        f"Total: {plan.step_count} langkah, +{format_number(plan.total_gain)} poin "
        f"-> IID {format_number(plan.final_iid)} "
        f"({plan.final_predicate}); target {outcome}."
    )
    lines.extend(f"Catatan: {note}" for note in plan.notes)
    return "\n".join(lines)


def render_what_if(before: IndexFigures, after: IndexFigures) -> str:
    return (
        f"Sebelum: IID {format_number(before.iid)} ({before.predicate})\n"
        f"Sesudah: IID {format_number(after.iid)} ({after.predicate}), selisih {format_number(after.iid - before.iid)}"
    )


def as_json(value: IndexFigures | PathPlan) -> str:
    return json.dumps(value.model_dump(mode="json"), ensure_ascii=False, indent=2)


def standing_as_json(standing: Standing) -> str:
    """The claimed figures as `as_json` gives them, with the verified ones beside them (None until verifying)."""
    verified = standing.verified
    return json.dumps(
        {
            **standing.claimed.model_dump(mode="json"),
            "verified": verified.model_dump(mode="json") if verified is not None else None,
            "points_at_risk": standing.points_at_risk,
            "review": standing.review.model_dump(mode="json") if standing.review is not None else None,
        },
        ensure_ascii=False,
        indent=2,
    )
