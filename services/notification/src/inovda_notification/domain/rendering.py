"""Email bodies from the Jinja2 templates in `inovda_notification/templates`, one pair per kind.

`<kind>.html` is autoescaped and extends `base.html`; `<kind>.txt` is plain text. In both, every value a
template prints passes `one_line` first, so no interpolated value can break a line or hide characters.
Templates are read from the package folder on first use; rendering itself touches nothing outside.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from inovda_shared.indonesian import format_date, format_number, format_points

from .formatting import one_line, unit_kind_label
from .model import EmailKind

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class RenderedBody:
    text: str
    html: str


class Renderer:
    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self._environment = Environment(
            loader=FileSystemLoader(templates_dir),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
            undefined=StrictUndefined,
            finalize=_printable,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # templates ship with the package; no need to stat them on every email
        )
        self._environment.filters.update(
            angka=format_number,
            poin=format_points,
            tanggal=format_date,
            jenis_unit=unit_kind_label,
        )

    def render(self, kind: EmailKind, context: Mapping[str, object]) -> RenderedBody:
        return RenderedBody(
            text=self._environment.get_template(f"{kind}.txt").render(context),
            html=self._environment.get_template(f"{kind}.html").render(context),
        )


def _printable(value: object) -> object:
    # Markup is the templates' own HTML (already safe); anything else that is text comes from the outside.
    if isinstance(value, str) and not isinstance(value, Markup):
        return one_line(value)
    return value
