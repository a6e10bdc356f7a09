"""Closed vocabularies of the intake contract.

These are wire-level facts (what a sender may write), not scoring rules: the rubric of each
assessment year lives with the scoring service as data.
"""

from typing import Literal

UnitKind = Literal[
    "opd",
    "kecamatan",
    "kelurahan",
    "desa",
    "puskesmas",
    "rsud",
    "bumd",
    "bumdes",
    "sekolah",
    "lainnya",
]
# How people read a unit kind (reports, emails).
UNIT_KIND_LABELS: dict[str, str] = {
    "opd": "Perangkat Daerah (OPD)",
    "kecamatan": "Kecamatan",
    "kelurahan": "Kelurahan",
    "desa": "Desa",
    "puskesmas": "Puskesmas",
    "rsud": "RSUD",
    "bumd": "BUMD",
    "bumdes": "BUMDes",
    "sekolah": "Sekolah",
    "lainnya": "Lainnya",
}
InnovationForm = Literal["tata_kelola", "pelayanan_publik", "lainnya"]
InnovationType = Literal["digital", "non_digital"]
Initiator = Literal["kepala_daerah", "dprd", "asn", "perangkat_daerah", "masyarakat"]
Stage = Literal["inisiatif", "uji_coba", "penerapan"]
BenefitBasis = Literal["a", "b", "c", "d", "e", "f"]

SPD_INDICATOR_IDS: tuple[str, ...] = (
    "1", "2a", "2b", "3", "4", "5a", "5b", "6", "7", "8", "9",
    "10a", "10b", "11a", "11b", "12", "13a", "13b", "14", "15",
)  # fmt: skip
SID_INDICATOR_IDS: tuple[str, ...] = tuple(str(n) for n in range(16, 36))
BENEFIT_INDICATOR_ID = "33"

# The six affairs of "urusan wajib pelayanan dasar" (basic services, "yandas").
BASIC_SERVICE_AFFAIRS: tuple[str, ...] = (
    "pendidikan",
    "kesehatan",
    "pekerjaan_umum_penataan_ruang",
    "perumahan_kawasan_permukiman",
    "ketenteraman_ketertiban_umum_pelindungan_masyarakat",
    "sosial",
)
OTHER_MANDATORY_AFFAIRS: tuple[str, ...] = (
    "tenaga_kerja",
    "pemberdayaan_perempuan_pelindungan_anak",
    "pangan",
    "pertanahan",
    "lingkungan_hidup",
    "administrasi_kependudukan_pencatatan_sipil",
    "pemberdayaan_masyarakat_desa",
    "pengendalian_penduduk_keluarga_berencana",
    "perhubungan",
    "komunikasi_informatika",
    "koperasi_usaha_kecil_menengah",
    "penanaman_modal",
    "kepemudaan_olahraga",
    "statistik",
    "persandian",
    "kebudayaan",
    "perpustakaan",
    "kearsipan",
)
OPTIONAL_AFFAIRS: tuple[str, ...] = (
    "kelautan_perikanan",
    "pariwisata",
    "pertanian",
    "kehutanan",
    "energi_sumber_daya_mineral",
    "perdagangan",
    "perindustrian",
    "transmigrasi",
)
SUPPORT_FUNCTIONS: tuple[str, ...] = (
    "perencanaan",
    "keuangan",
    "kepegawaian",
    "pendidikan_pelatihan",
    "penelitian_pengembangan",
    "pengawasan",
    "sekretariat",
)
GOVERNMENT_AFFAIRS: frozenset[str] = frozenset(
    BASIC_SERVICE_AFFAIRS + OTHER_MANDATORY_AFFAIRS + OPTIONAL_AFFAIRS + SUPPORT_FUNCTIONS
)

# A verifier's decisions (`innovation.verification.v1`), in the words units read on every page and email.
DecisionKind = Literal["accepted", "accepted_lower", "not_accepted"]
DECISION_LABELS: dict[str, str] = {
    "accepted": "Diterima",
    "accepted_lower": "Diterima pada level lebih rendah",
    "not_accepted": "Tidak diterima",
}
# Why evidence is not accepted: a closed list, so that every unit reads the same words for the same finding.
NotAcceptedReason = Literal[
    "evidence_missing", "evidence_unreadable", "evidence_does_not_support_level", "wrong_indicator", "other"
]
NOT_ACCEPTED_REASON_LABELS: dict[str, str] = {
    "evidence_missing": "data dukung tidak ada",
    "evidence_unreadable": "data dukung tidak dapat dibuka atau dibaca",
    "evidence_does_not_support_level": "data dukung tidak mendukung level yang diklaim",
    "wrong_indicator": "data dukung bukan untuk indikator ini",
    "other": "alasan lain",
}
# The eligibility items a verifier may mark: the design's length, the stage, the dates, the mandatory indicators.
EligibilityItem = Literal["design", "stage", "applied_on", "mandatory"]
ELIGIBILITY_ITEM_LABELS: dict[str, str] = {
    "design": "Rancang bangun",
    "stage": "Tahapan inovasi",
    "applied_on": "Tanggal mulai penerapan",
    "mandatory": "Indikator wajib",
}
