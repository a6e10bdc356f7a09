"""Every sentence of the path in Bahasa Indonesia: its options, its steps and its notes.

An option's sentence is its summary, without the gain; a step adds the gain it brought.
"""

from collections.abc import Iterable
from decimal import Decimal

from inovda_shared.indonesian import format_number


def points(value: Decimal) -> str:
    return format_number(value, 2)


def indicator_label(indicator_id: str, name: str) -> str:
    return f"{indicator_id} ({name})"


def add_sid_evidence(label: str, title: str, level: int) -> str:
    return f"Lengkapi data dukung indikator {label} pada inovasi '{title}' (level {level})"


def fill_sid_indicator(label: str, title: str, level: int) -> str:
    return f"Isi indikator {label} pada inovasi '{title}' di level {level} beserta data dukungnya"


def raise_sid_level(label: str, title: str, current: int, level: int, *, has_evidence: bool) -> str:
    summary = f"Naikkan indikator {label} pada inovasi '{title}' dari level {current} ke {level}"
    return summary if has_evidence else summary + " dan lengkapi data dukungnya"


def make_eligible(title: str, fixes: Iterable[str]) -> str:
    return f"Jadikan inovasi '{title}' memenuhi syarat: {'; '.join(fixes)}"


def fill_spd_indicator(label: str, level: int) -> str:
    return f"Isi indikator SPD {label} di level {level}"


def raise_spd_level(label: str, current: int, level: int) -> str:
    return f"Naikkan indikator SPD {label} dari level {current} ke {level}"


def cover_affair(affair: str, maturity: int) -> str:
    return (
        f"Tambahkan 1 inovasi baru yang memenuhi syarat pada urusan {affair.replace('_', ' ')} "
        f"(kematangan {maturity}) agar urusan pelayanan dasar ini tercakup"
    )


def add_innovations(count: int, maturity: int) -> str:
    return (
        f"Tambahkan {count} inovasi baru yang memenuhi syarat dengan kematangan setara rata-rata saat ini ({maturity})"
    )


def step(summary: str, gain: Decimal) -> str:
    return f"{summary} (+{points(gain)} poin IID)"


def target_out_of_reach(target: str, target_iid: Decimal, best_iid: Decimal) -> str:
    return (
        f"Predikat {target} (IID minimal {points(target_iid)}) tidak tercapai dengan "
        f"langkah yang tersedia; IID tertinggi {points(best_iid)}."
    )


def steps_exhausted(max_steps: int, target: str, target_iid: Decimal) -> str:
    return f"Jalur dibatasi {max_steps} langkah; predikat {target} (IID minimal {points(target_iid)}) belum tercapai."


def cannot_count(title: str, reasons: Iterable[str]) -> str:
    return f"Inovasi '{title}' tidak dapat dihitung tahun ini: {' '.join(reasons)}"
