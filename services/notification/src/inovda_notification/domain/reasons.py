"""Rejection reasons in words a unit operator understands, each with how to fix it."""

from dataclasses import dataclass

from inovda_shared.contracts.events import Reason

from .formatting import one_line


@dataclass(frozen=True)
class Explanation:
    problem: str
    fix: str


@dataclass(frozen=True)
class ExplainedReason:
    field: str
    code: str
    problem: str
    fix: str | None  # None: an unknown code, explained only by the raw message
    detail: str  # the raw message, for whoever maintains the sending system


# `{field}` becomes "kolom 'title'" (or "isi pesan" for the whole message), never the start of a sentence.
EXPLANATIONS: dict[str, Explanation] = {
    "too_large": Explanation(
        "Pesan terlalu besar (lebih dari 1 MiB, atau lebih dari 5.000 kolom dan butir daftar).",
        "Kirim tautan ke dokumen data dukung, bukan isi dokumennya, dan persingkat teks yang sangat panjang.",
    ),
    "invalid_encoding": Explanation(
        "Pesan tidak ditulis dalam pengodean UTF-8.",
        "Atur sistem pengirim agar menyimpan dan mengirim pesan dalam pengodean UTF-8.",
    ),
    "invalid_json": Explanation(
        "Isi pesan bukan JSON yang sah (misalnya tanda kurung tidak lengkap, kolom yang sama muncul dua kali, "
        "nilai NaN, atau struktur terlalu dalam).",
        "Periksa pesan dengan validator JSON dan pastikan setiap kolom hanya muncul sekali.",
    ),
    "wrong_type": Explanation(
        'Jenis nilai pada {field} salah (misalnya teks "3" padahal seharusnya angka 3).',
        "Kirim nilai dengan jenis yang benar: angka tanpa tanda kutip, teks dengan tanda kutip, daftar dengan "
        "[ ], dan pesan secara keseluruhan sebagai objek { }.",
    ),
    "unknown_routing_key": Explanation(
        "Jenis pesan (routing key) tidak dikenal.",
        "Gunakan salah satu jenis pesan: unit.upsert.v1, region.profile.v1, atau innovation.report.v1.",
    ),
    "forbidden_key": Explanation(
        "Nama {field} diawali tanda '$' atau mengandung titik.",
        "Ganti nama kolom tersebut: nama kolom tidak boleh diawali '$' dan tidak boleh memuat '.'.",
    ),
    "unknown_field": Explanation(
        "Pesan memuat {field}, yang tidak dikenal dalam format pesan.",
        "Hapus kolom ini atau perbaiki ejaannya. Kolom 'basis' hanya berlaku untuk indikator 33.",
    ),
    "missing": Explanation(
        "Pesan tidak memuat {field}, padahal wajib diisi.",
        "Lengkapi kolom ini. Tanggal penerapan (applied_on) wajib untuk tahap penerapan, dan 'basis' wajib "
        "untuk indikator 33.",
    ),
    "unknown_value": Explanation(
        "Nilai pada {field} tidak termasuk pilihan yang diizinkan.",
        "Pilih salah satu nilai yang tercantum dalam panduan (jenis unit, bentuk, jenis, inisiator, tahapan, "
        "atau urusan pemerintahan).",
    ),
    "unknown_indicator": Explanation(
        "Nomor indikator pada {field} tidak dikenal.",
        "Gunakan nomor indikator SID 16 sampai 35 untuk laporan inovasi, atau nomor indikator SPD (1, 2a, 2b, "
        "3, 4, 5a, 5b, 6 sampai 9, 10a, 10b, 11a, 11b, 12, 13a, 13b, 14, 15) untuk profil daerah.",
    ),
    "out_of_range": Explanation(
        "Nilai pada {field} di luar rentang yang diizinkan.",
        "Level indikator harus 1, 2, atau 3; tahun antara 2000 dan 2100; tanggal penerapan tidak boleh "
        "melewati tahun penilaian.",
    ),
    "invalid_format": Explanation(
        "Format nilai pada {field} tidak sesuai.",
        "Kode wilayah mengikuti kode BPS (contoh 64.02); kode unit dan kode sumber hanya memakai huruf, "
        "angka, titik, garis bawah, dan tanda hubung, tanpa spasi.",
    ),
    "invalid_length": Explanation(
        "Isi pada {field} kosong, terlalu sedikit, atau terlalu panjang.",
        "Isi kolom ini dan persingkat bila melebihi batas (nama dan judul paling panjang 300 karakter).",
    ),
    "invalid_date": Explanation(
        "Tanggal pada {field} tidak sah.",
        "Tulis tanggal dengan format TTTT-BB-HH, contoh 2024-03-01.",
    ),
    "invalid_email": Explanation(
        "Alamat email pada {field} tidak sah.",
        "Periksa penulisan alamat email: satu alamat per isian, dengan format nama@domain, tanpa spasi.",
    ),
    "invalid_uri": Explanation(
        "Tautan pada {field} tidak sah.",
        "Tulis alamat lengkap yang diawali http:// atau https://, tanpa spasi.",
    ),
    "control_character": Explanation(
        "Nilai pada {field} mengandung baris baru atau karakter tak terlihat.",
        "Tulis isi kolom ini dalam satu baris dan hapus karakter tak terlihat (sering terbawa saat menyalin "
        "dari dokumen).",
    ),
    "unknown_unit": Explanation(
        "Unit yang disebut pada {field} belum terdaftar di wilayah ini.",
        "Daftarkan unit terlebih dahulu (pesan unit.upsert.v1), tunggu sampai diterima, lalu kirim ulang "
        "laporan inovasi.",
    ),
    "immutable_field": Explanation(
        "Nilai pada {field} tidak boleh berubah pada revisi inovasi yang sudah pernah dilaporkan.",
        "Kirim revisi dengan wilayah dan tahun yang sama seperti laporan pertama. Bila memang berbeda, "
        "laporkan sebagai inovasi baru dengan external_id baru.",
    ),
    "no_rubric_for_year": Explanation(
        "Tahun penilaian pada {field} belum memiliki rubrik Indeks Inovasi Daerah, sehingga tidak dapat dinilai.",
        "Periksa tahun penilaian; kirim ulang dengan tahun yang rubriknya sudah berlaku, atau tunggu sampai "
        "rubrik tahun tersebut ditetapkan.",
    ),
    "too_deep": Explanation(
        "Struktur pesan pada {field} bersarang terlalu dalam.",
        "Sederhanakan struktur pesan sesuai format yang ditentukan (paling dalam 32 tingkat).",
    ),
}

_WHOLE_MESSAGE_FIELDS = {"$": "isi pesan", "$routing_key": "jenis pesan (routing key)"}


def field_label(field: str) -> str:
    """The field as the operator finds it in the message; the whole-message markers in words."""
    return _WHOLE_MESSAGE_FIELDS.get(field, f"kolom '{one_line(field)}'")


def explain(reason: Reason) -> ExplainedReason:
    explanation = EXPLANATIONS.get(reason.code)
    detail = one_line(reason.message)
    if explanation is None:
        return ExplainedReason(field=reason.field, code=reason.code, problem=detail, fix=None, detail=detail)
    return ExplainedReason(
        field=reason.field,
        code=reason.code,
        problem=explanation.problem.format(field=field_label(reason.field)),
        fix=explanation.fix,
        detail=detail,
    )
