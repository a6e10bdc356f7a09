"""The bytes the sender gives the SMTP server for an email: headers that cannot be broken into, one
Message-ID for every copy, multipart/alternative text then html in UTF-8, CRLF line ends, leading periods
doubled. Read back with the standard library's strict parser, as a mail client would."""

import email
import email.policy
import re
from email.message import EmailMessage as ParsedMessage

import pytest

from inovda_notification.adapters.smtp import SmtpConfig, SmtpSender, data_section, message_id
from inovda_notification.domain import EmailMessage, Renderer
from tests.unit.notification.test_rendering import every_email

SENDER = "Inovda <inovda@kukarkab.example>"
INDONESIAN = "Pelayanan Kesehatan “Sehat Bersama” — Désa Ñusantara, Rp 1.500.000 (naik 2,5%) 😀"
LINE_BREAKS = ("\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c")


def sender(address: str = SENDER) -> SmtpSender:
    return SmtpSender(SmtpConfig("127.0.0.1", 25, address))


def email_of(**overrides: object) -> EmailMessage:
    fields: dict[str, object] = {
        "kind": "score",
        "dedupe_key": "score:e-inovasi/INV-001:r1",
        "to": ["dinkes@kukarkab.example", "sekretariat@kukarkab.example"],
        "cc": ["mentor@kukarkab.example"],
        "subject": f"Hasil penilaian inovasi: {INDONESIAN}",
        "text": f"Yth. Dinas Kesehatan,\n\n{INDONESIAN}\n.\n.awal baris\n..dua titik\n",
        "html": f"<p>{INDONESIAN}</p>\n<p>.awal baris</p>\n",
    }
    return EmailMessage(**{**fields, **overrides})  # type: ignore[arg-type]


def wire(message: EmailMessage, by: SmtpSender | None = None) -> bytes:
    return data_section((by or sender()).compose(message))


def read_back(content: bytes) -> ParsedMessage:
    """What the server stores: the DATA section with its leading periods un-doubled (RFC 5321 4.5.2)."""
    lines = [line[1:] if line.startswith(b".") else line for line in content.split(b"\r\n")]
    parsed = email.message_from_bytes(b"\r\n".join(lines), policy=email.policy.default)
    assert isinstance(parsed, ParsedMessage)
    return parsed


def bodies(parsed: ParsedMessage) -> list[tuple[str, str | None, str]]:
    return [
        (part.get_content_type(), part.get_content_charset(), part.get_content().replace("\r\n", "\n"))
        for part in parsed.iter_parts()
        if isinstance(part, ParsedMessage)
    ]


@pytest.mark.parametrize("line_break", LINE_BREAKS)
@pytest.mark.parametrize("field", ["subject", "to", "cc", "dedupe_key"])
def test_a_header_value_with_a_line_break_is_refused(field: str, line_break: str) -> None:
    value = f"Inovasi{line_break}Bcc: korban@example.com"
    message = email_of(**{field: [value] if field in ("to", "cc") else value})
    with pytest.raises(ValueError, match="line break"):
        sender().compose(message)


def test_a_sender_that_is_no_address_is_refused() -> None:
    with pytest.raises(ValueError, match="not an address"):
        sender("Inovda")


def test_the_headers_read_back_as_given_beyond_ascii_too() -> None:
    parsed = read_back(wire(email_of(), sender("Inovda Kukar — Désa <inovda@kukarkab.example>")))
    assert str(parsed["Subject"]) == f"Hasil penilaian inovasi: {INDONESIAN}"
    assert str(parsed["From"]) == "Inovda Kukar — Désa <inovda@kukarkab.example>"
    assert str(parsed["To"]) == "dinkes@kukarkab.example, sekretariat@kukarkab.example"
    assert str(parsed["Cc"]) == "mentor@kukarkab.example"
    assert parsed["X-Inovda-Dedupe-Key"] == "score:e-inovasi/INV-001:r1"
    assert parsed["MIME-Version"] == "1.0"
    assert parsed["Date"].datetime is not None
    assert "Cc" not in read_back(wire(email_of(cc=[])))
    assert all(not part.defects for part in parsed.walk()), [part.defects for part in parsed.walk()]


def test_every_copy_of_an_email_has_one_message_id_and_another_email_another() -> None:
    first, again = (read_back(wire(email_of(), sender())) for _ in range(2))
    other = read_back(wire(email_of(dedupe_key="score:e-inovasi/INV-001:r2")))
    assert first["Message-ID"] == again["Message-ID"] == message_id("score:e-inovasi/INV-001:r1", SENDER)
    assert other["Message-ID"] != first["Message-ID"]


def test_the_body_is_text_then_html_alternatives_in_utf8() -> None:
    message = email_of()
    parsed = read_back(wire(message))
    assert parsed.get_content_type() == "multipart/alternative"
    assert bodies(parsed) == [("text/plain", "utf-8", message.text), ("text/html", "utf-8", message.html)]


def test_the_data_section_has_crlf_line_ends_short_lines_and_doubled_leading_periods() -> None:
    long_line = "Data dukung " + "x" * 3000
    message = email_of(text=f"baris satu\r\nbaris dua\rbaris tiga\n.\n.awal\n{long_line}\n", html=f"<p>{long_line}</p>")
    content = wire(message)
    assert content.endswith(b"\r\n")
    assert b"\n" not in content.replace(b"\r\n", b""), "no bare LF"
    assert b"\r" not in content.replace(b"\r\n", b""), "no bare CR"
    lines = content.split(b"\r\n")
    assert max(len(line) for line in lines) <= 78
    assert all(line.startswith(b"..") for line in lines if line.startswith(b"."))
    assert b"..awal" in lines, "a leading period in the body reaches the wire doubled"
    [text, html] = bodies(read_back(content))
    assert text[2] == f"baris satu\nbaris dua\nbaris tiga\n.\n.awal\n{long_line}\n"
    assert html[2] == message.html


def test_a_body_that_looks_like_a_boundary_stays_in_its_part() -> None:
    boundary = re.search(rb'boundary="([^"]+)"', wire(email_of()))
    assert boundary is not None
    looks_like_one = f"--{boundary.group(1).decode()}\n--=_\n=_ =3D =\n--=_{'0' * 32}--\n"
    message = email_of(text=looks_like_one, html=looks_like_one)
    assert bodies(read_back(wire(message))) == [
        ("text/plain", "utf-8", looks_like_one),
        ("text/html", "utf-8", looks_like_one),
    ]


def test_every_kind_of_email_reads_back_exactly(renderer: Renderer) -> None:
    for title in ("Posyandu Digital Kukar", INDONESIAN, "Sangat panjang " * 20):
        for kind, message in every_email(renderer, title).items():
            parsed = read_back(wire(message))
            assert str(parsed["Subject"]) == message.subject, kind
            assert bodies(parsed) == [("text/plain", "utf-8", message.text), ("text/html", "utf-8", message.html)]
