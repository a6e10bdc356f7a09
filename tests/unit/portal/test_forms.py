"""The report form: to the intake's message and back, and the intake's reasons beside their fields."""

from inovda_cli import samples
from inovda_portal.domain.forms import form_field_of, form_of_report, problems_by_field, read_form, report_body
from inovda_shared.contracts.events import Reason
from inovda_shared.contracts.intake import InnovationReport


def test_a_report_shown_in_the_form_and_sent_again_is_the_same_report() -> None:
    body = samples.innovation("INV-7", results="Angka stunting turun 12 persen.")
    form = form_of_report(body)
    sent = report_body(
        form, source="e-inovasi", external_id="INV-7", region_code="64.02", unit_code="DINKES", year=2026
    )
    assert InnovationReport.model_validate(sent, strict=False) == InnovationReport.model_validate(body, strict=False)


def test_the_account_and_the_page_say_who_reports_for_what_never_the_form() -> None:
    form = read_form(
        {
            "title": "  Layanan Antar Obat  ",
            "unit_code": "DISHUB",
            "source": "e-inovasi",
            "urusan": ["kesehatan"],
            "ind-16-level": "2",
            "ind-16-ev-0-title": "SK Bupati",
            "ind-16-ev-0-uri": "https://jdih.kukarkab.example/sk.pdf",
            "ind-16-ev-1-title": "",
            "ind-16-ev-1-uri": "",
            "ind-33-level": "1",
            "ind-33-basis": "a",
            "ind-20-level": "",
        }
    )
    body = report_body(
        form, source="portal", external_id="DINKES-1", region_code="64.02", unit_code="DINKES", year=2026
    )
    assert (body["source"], body["unit_code"], body["title"]) == ("portal", "DINKES", "Layanan Antar Obat")
    assert body["indicators"] == {
        "16": {"level": 2, "evidence": [{"title": "SK Bupati", "uri": "https://jdih.kukarkab.example/sk.pdf"}]},
        "33": {"level": 1, "evidence": [], "basis": "a"},
    }
    assert "design" not in body  # left empty: the intake names it as missing


def test_each_reason_goes_beside_its_field() -> None:
    assert form_field_of("indicators.16.evidence.0.uri") == "ind-16-ev-0-uri"
    assert form_field_of("indicators.33.basis") == "ind-33-basis"
    assert form_field_of("indicators.17") == "ind-17-level"
    assert form_field_of("urusan.2") == "urusan"
    assert form_field_of("applied_on") == "applied_on"
    assert form_field_of("$user_id") == "form"
    placed = problems_by_field(
        [Reason(field="title", code="invalid_length", message="title: String should have at most 300 characters")]
    )
    [problem] = placed["title"]
    assert "terlalu panjang" in problem.problem
    assert problem.fix
