"""The scoring service's pick of the indicators that gain an innovation the most maturity points, with advice."""

from inovda_notification.domain import improvements_from_event
from tests.unit.notification.builders import improvement


def test_improvements_keep_the_events_order_and_points() -> None:
    result = improvements_from_event(
        [improvement("20", 2), improvement("35", 12, level=2, has_evidence=False), improvement("16", 6)]
    )
    assert [(item.indicator_id, item.name, item.gain) for item in result] == [
        ("20", "Bimtek inovasi", 2),
        ("35", "Video inovasi", 12),
        ("16", "Regulasi inovasi daerah", 6),
    ]


def test_nothing_to_improve_gives_no_improvements() -> None:
    assert improvements_from_event([]) == []


def test_an_indicator_not_filled_in_is_to_be_filled_at_the_top_level() -> None:
    [item] = improvements_from_event([improvement("31", 9, level=0, has_evidence=False)])
    assert (item.level, item.has_evidence) == (0, False)
    assert item.advice == "Isi indikator ini di level 3 beserta data dukungnya."


def test_a_claim_without_evidence_needs_its_evidence_and_a_higher_level() -> None:
    [item] = improvements_from_event([improvement("35", 12, level=2, has_evidence=False)])
    assert item.advice == "Lengkapi data dukungnya dan naikkan dari level 2 ke level 3."


def test_a_top_level_claim_without_evidence_needs_only_its_evidence() -> None:
    [item] = improvements_from_event([improvement("33", 9, level=3, has_evidence=False)])
    assert item.advice == "Lengkapi data dukung untuk level 3 yang sudah diisi; tanpa data dukung nilainya 0."


def test_a_claim_with_evidence_is_to_be_raised_to_the_top_level() -> None:
    [item] = improvements_from_event([improvement("16", 6, level=1, has_evidence=True)])
    assert (item.level, item.has_evidence) == (1, True)
    assert item.advice == "Naikkan dari level 1 ke level 3 beserta data dukungnya."
