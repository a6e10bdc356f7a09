"""The portal's HTTP side: one thin route per page (read the request, ask the views or a command, render).

Every route that shows or changes something resolves the account from its session first, and every view it
asks checks that account (`domain.access`); a form is taken only with the session's CSRF token. Pages are
server-rendered HTML in Bahasa Indonesia, readable without JavaScript.
"""

import datetime as dt
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import FormData as StarletteForm
from starlette.exceptions import HTTPException

from inovda_shared.contracts.vocabulary import (
    DECISION_LABELS,
    ELIGIBILITY_ITEM_LABELS,
    NOT_ACCEPTED_REASON_LABELS,
    UNIT_KIND_LABELS,
)
from inovda_shared.indonesian import MONTHS, format_date, format_number, format_points
from inovda_shared.observability import REGISTRY, Readiness

from .adapters.exports import as_csv, as_xlsx
from .adapters.metrics import LOGINS
from .domain.access import ROLE_LABELS, Account
from .domain.forms import BASES, CHOICE_FIELDS, EVIDENCE_ROWS, FormData, affairs, problems_by_field, read_form
from .domain.review import DECISIONS, REASONS, read_review_form
from .domain.simulation import CLAIM_ROWS
from .service import Accounts, AuthenticationError, Reporting
from .settings import PortalSettings
from .views import PortalViews, ReportFormView

SESSION_COOKIE = "inovda_portal"
STATIC_FILES = resources.files("inovda_portal") / "static"


class LoginRequiredError(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


class PageNotFoundError(Exception):
    """What the account may not see, or what is not there: the same 404 for both."""


@dataclass(frozen=True)
class Portal:
    views: PortalViews
    accounts: Accounts
    reporting: Reporting
    readiness: Readiness
    settings: PortalSettings
    templates: Jinja2Templates
    throttle: "LoginThrottle"


class LoginThrottle:
    """Failed logins per user name and per client address, in a moving window (per replica: `limits`)."""

    def __init__(self, per_user: str, per_address: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_user: RateLimitItem = parse(per_user)
        self._per_address: RateLimitItem = parse(per_address)

    def allowed(self, username: str, address: str) -> bool:
        return self._limiter.test(self._per_user, "user", username) and self._limiter.test(
            self._per_address, "address", address
        )

    def failed(self, username: str, address: str) -> None:
        self._limiter.hit(self._per_user, "user", username)
        self._limiter.hit(self._per_address, "address", address)

    def wait_minutes(self, username: str, address: str) -> int:
        resets = [
            self._limiter.get_window_stats(self._per_user, "user", username).reset_time,
            self._limiter.get_window_stats(self._per_address, "address", address).reset_time,
        ]
        seconds = max(resets) - dt.datetime.now(dt.UTC).timestamp()
        return max(1, int(seconds // 60) + 1)


async def signed_in(request: Request) -> Account:
    """The session's account, still good (not disabled, password not reset since); else to the login page."""
    portal: Portal = request.app.state.portal
    username, version = request.session.get("user"), request.session.get("version")
    account = None
    if isinstance(username, str) and isinstance(version, int):
        account = await portal.accounts.current(username, version)
    if account is None:
        request.session.clear()
        raise LoginRequiredError(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return account


Signed = Annotated[Account, Depends(signed_in)]


def templates_for(settings: PortalSettings) -> Jinja2Templates:
    timezone = ZoneInfo(settings.timezone)
    environment = Environment(
        loader=PackageLoader("inovda_portal", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def local_time(moment: dt.datetime | None) -> str:
        if moment is None:
            return "-"
        local = moment.astimezone(timezone)
        return f"{local.day} {MONTHS[local.month - 1]} {local.year} {local:%H.%M}"

    environment.filters.update(
        angka=format_number,
        poin=format_points,
        tanggal=format_date,
        waktu=local_time,
        jenis=lambda kind: UNIT_KIND_LABELS.get(kind, kind),
        urusan=lambda slug: slug.replace("_", " "),
        quote=lambda text: quote(str(text), safe=""),
    )
    environment.globals.update(
        ROLE_LABELS=ROLE_LABELS,
        CHOICES=CHOICE_FIELDS,
        BASES=BASES,
        AFFAIRS=affairs(),
        CLAIM_ROWS=CLAIM_ROWS,
        EVIDENCE_ROWS=EVIDENCE_ROWS,
        DECISIONS=DECISIONS,
        DECISION_LABELS=DECISION_LABELS,
        REASONS=REASONS,
        REASON_LABELS=NOT_ACCEPTED_REASON_LABELS,
        ITEM_LABELS=ELIGIBILITY_ITEM_LABELS,
    )
    return Jinja2Templates(env=environment)


def build_pages(portal: Portal) -> APIRouter:
    pages = APIRouter()
    views, accounts = portal.views, portal.accounts

    def render(
        request: Request, template: str, account: Account | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        return portal.templates.TemplateResponse(
            request,
            template,
            {"account": account, "csrf_token": csrf_token(request), **context},
            status_code=status,
        )

    async def form_of(request: Request) -> FormData:
        """The posted form, once its CSRF token matched the session's."""
        form = await request.form()
        expected = request.session.get("csrf")
        if not isinstance(expected, str) or not hmac.compare_digest(str(form.get("csrf_token", "")), expected):
            raise HTTPException(400, "Formulir kedaluwarsa atau tidak sah: muat ulang halaman dan coba lagi.")
        return _as_mapping(form)

    # --- health ----------------------------------------------------------------------------------

    @pages.get("/health/live", include_in_schema=False)
    async def live() -> Response:
        return Response('{"status": "live"}', media_type="application/json")

    @pages.get("/health/ready", include_in_schema=False)
    async def ready() -> Response:
        answer = await portal.readiness.respond()
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    @pages.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    # --- signing in and out ----------------------------------------------------------------------

    @pages.get("/masuk", response_class=HTMLResponse)
    async def login_page(request: Request, lanjut: str = "/") -> HTMLResponse:
        return render(request, "login.html", None, next=_safe_next(lanjut), problem=None, username="")

    @pages.post("/masuk", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await form_of(request)
        username = str(form.get("username", "")).strip().lower()[:64]
        password = str(form.get("password", ""))
        address = request.client.host if request.client else "-"
        next_path = _safe_next(str(form.get("lanjut", "/")))
        if not portal.throttle.allowed(username, address):
            LOGINS.labels(outcome="throttled").inc()
            minutes = portal.throttle.wait_minutes(username, address)
            problem = f"Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit."
            return render(request, "login.html", None, 429, next=next_path, problem=problem, username=username)
        try:
            account = await accounts.authenticate(username, password)
        except AuthenticationError:
            portal.throttle.failed(username, address)
            LOGINS.labels(outcome="refused").inc()
            problem = "Nama pengguna atau kata sandi salah, atau akun dinonaktifkan."
            return render(request, "login.html", None, 401, next=next_path, problem=problem, username=username)
        LOGINS.labels(outcome="signed_in").inc()
        request.session.clear()  # a new session, and a new CSRF token, for the signed-in account
        request.session.update({"user": account.username, "version": account.session_version})
        return RedirectResponse(next_path if next_path != "/" else await home_of(account), status_code=303)

    @pages.post("/keluar")
    async def logout(request: Request) -> Response:
        await form_of(request)
        request.session.clear()
        return RedirectResponse("/masuk", status_code=303)

    async def home_of(account: Account) -> str:
        year = await views.default_year(account.region)
        if account.role == "unit":
            return f"/wilayah/{account.region}/unit/{quote(account.unit_code or '')}?tahun={year}"
        return f"/wilayah/{account.region}/{year}"

    @pages.get("/")
    async def home(account: Signed) -> Response:
        return RedirectResponse(await home_of(account), status_code=303)

    # --- the region ------------------------------------------------------------------------------

    @pages.get("/wilayah/{region_code}/{year:int}", response_class=HTMLResponse)
    async def overview(request: Request, account: Signed, region_code: str, year: int) -> HTMLResponse:
        view = _found(await views.overview(account, region_code, year))
        return render(request, "overview.html", account, view=view, page="ringkasan")

    @pages.get("/wilayah/{region_code}/{year:int}/kepatuhan", response_class=HTMLResponse)
    async def compliance(
        request: Request,
        account: Signed,
        region_code: str,
        year: int,
        urut: str = "status",
        turun: bool = False,
        jenis: str = "",
        status: str = "",
        cari: str = "",
    ) -> HTMLResponse:
        view = _found(await views.compliance(account, region_code, year, urut, turun, jenis, status, cari))
        return render(request, "compliance.html", account, view=view, page="kepatuhan")

    @pages.get("/wilayah/{region_code}/{year:int}/kepatuhan.{extension}")
    async def compliance_export(
        account: Signed,
        region_code: str,
        year: int,
        extension: str,
        urut: str = "status",
        turun: bool = False,
        jenis: str = "",
        status: str = "",
        cari: str = "",
    ) -> Response:
        if extension not in ("csv", "xlsx"):
            raise PageNotFoundError
        view = _found(await views.compliance(account, region_code, year, urut, turun, jenis, status, cari))
        header, rows = views.compliance_table(view)
        name = f"kepatuhan-{region_code}-{year}.{extension}"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        if extension == "csv":
            return Response(as_csv(header, rows), media_type="text/csv; charset=utf-8", headers=disposition)
        content = as_xlsx(f"Kepatuhan {year}", header, rows)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(content, media_type=media, headers=disposition)

    @pages.api_route("/wilayah/{region_code}/{year:int}/simulasi", methods=["GET", "POST"], response_class=HTMLResponse)
    async def what_if(request: Request, account: Signed, region_code: str, year: int) -> HTMLResponse:
        data = await form_of(request) if request.method == "POST" else None
        view = _found(await views.what_if(account, region_code, year, data))
        return render(request, "whatif.html", account, view=view, page="simulasi")

    # --- units and innovations -------------------------------------------------------------------

    @pages.get("/wilayah/{region_code}/unit/{unit_code}", response_class=HTMLResponse)
    async def unit(
        request: Request, account: Signed, region_code: str, unit_code: str, tahun: int | None = None
    ) -> HTMLResponse:
        year = tahun or await views.default_year(region_code)
        view = _found(await views.unit(account, region_code, unit_code, year))
        return render(request, "unit.html", account, view=view, page="unit")

    @pages.get("/inovasi/{source}/{external_id}", response_class=HTMLResponse)
    async def innovation(request: Request, account: Signed, source: str, external_id: str) -> HTMLResponse:
        view = _found(await views.innovation(account, source, external_id))
        return render(request, "innovation.html", account, view=view, page="inovasi")

    # --- the review ----------------------------------------------------------------------------

    @pages.get("/wilayah/{region_code}/{year:int}/verifikasi", response_class=HTMLResponse)
    async def review_queue(request: Request, account: Signed, region_code: str, year: int) -> HTMLResponse:
        view = _found(await views.review_queue(account, region_code, year))
        return render(request, "review_queue.html", account, view=view, page="verifikasi")

    @pages.get("/inovasi/{source}/{external_id}/verifikasi", response_class=HTMLResponse)
    async def review_form(request: Request, account: Signed, source: str, external_id: str) -> HTMLResponse:
        view = _found(await views.review_form(account, source, external_id))
        return render(request, "review_form.html", account, view=view, page="verifikasi")

    @pages.post("/inovasi/{source}/{external_id}/verifikasi")
    async def review(request: Request, account: Signed, source: str, external_id: str) -> Response:
        data = await form_of(request)
        view = _found(await views.review_form(account, source, external_id))
        form = read_review_form(data, tuple(row.indicator.indicator_id for row in view.rows))
        revision = str(data.get("revisi", ""))
        if revision != str(view.revision.revision):
            # A new revision came while the verifier was deciding: decide on what the unit claims now.
            view = _found(await views.review_form(account, source, external_id, form))
            problem = f"Unit telah mengirim revisi {view.revision.revision}; periksa kembali lalu kirim keputusan."
            return render(request, "review_form.html", account, 409, view=view, page="verifikasi", problem=problem)
        message_id = await portal.reporting.review(
            account, view.region_code, view.year, view.record, view.revision.revision, form
        )
        return RedirectResponse(f"/laporan/{message_id}", status_code=303)

    # --- the report form -------------------------------------------------------------------------

    @pages.get("/wilayah/{region_code}/unit/{unit_code}/lapor", response_class=HTMLResponse)
    async def report_form(
        request: Request,
        account: Signed,
        region_code: str,
        unit_code: str,
        tahun: int | None = None,
        inovasi: str | None = None,
    ) -> HTMLResponse:
        year = tahun or await views.default_year(region_code)
        view = _found(await views.report_form(account, region_code, unit_code, year, inovasi))
        return render(request, "report_form.html", account, view=view, page="lapor")

    @pages.post("/wilayah/{region_code}/unit/{unit_code}/lapor")
    async def report(request: Request, account: Signed, region_code: str, unit_code: str) -> Response:
        data = await form_of(request)
        external_id = str(data.get("inovasi") or "") or None
        year_text = str(data.get("year", ""))
        view = _found(
            await views.report_form(
                account, region_code, unit_code, int(year_text) if year_text.isdigit() else 0, external_id
            )
        )
        message_id = await portal.reporting.report(
            account, region_code, view.unit, view.year, read_form(data), view.external_id
        )
        return RedirectResponse(f"/laporan/{message_id}", status_code=303)

    @pages.get("/laporan/{message_id}", response_class=HTMLResponse)
    async def submission(request: Request, account: Signed, message_id: str) -> HTMLResponse:
        view = _found(await views.submission(account, message_id))
        if view.kind == "review":
            return render(request, "review_status.html", account, view=view, page="verifikasi")
        if view.answer is not None and view.answer.status == "rejected":
            # The form again, as it was sent, with each reason beside its field.
            form_view = _found(await views.report_form(account, view.region_code, view.unit_code, view.year, None))
            resent = ReportFormView(
                region_code=form_view.region_code,
                unit=form_view.unit,
                year=view.year,
                years=form_view.years,
                rubric=form_view.rubric,
                form=read_form(_form_of_body(view.body)),
                external_id=view.external_id if view.reported else None,
                title="Laporan ditolak: perbaiki isian yang ditandai lalu kirim ulang",
                problems=problems_by_field(view.answer.reasons),
            )
            return render(request, "report_form.html", account, 422, view=resent, page="lapor")
        return render(request, "report_status.html", account, view=view, page="lapor")

    return pages


def install_error_pages(app: FastAPI, portal: Portal) -> None:
    async def login_required(request: Request, error: Exception) -> Response:
        assert isinstance(error, LoginRequiredError)
        return RedirectResponse(f"/masuk?lanjut={quote(error.path, safe='')}", status_code=303)

    async def not_found(request: Request, error: Exception) -> Response:
        return portal.templates.TemplateResponse(
            request, "not_found.html", {"account": None, "csrf_token": csrf_token(request)}, status_code=404
        )

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code == 404:
            return await not_found(request, error)
        return portal.templates.TemplateResponse(
            request,
            "error.html",
            {"account": None, "csrf_token": csrf_token(request), "status": error.status_code, "detail": error.detail},
            status_code=error.status_code,
        )

    app.add_exception_handler(LoginRequiredError, login_required)
    app.add_exception_handler(PageNotFoundError, not_found)
    app.add_exception_handler(HTTPException, http_error)


SECURITY_HEADERS = {
    # Everything the pages use is the portal's own: no script, style, font or image from anywhere else.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        if name == "Cache-Control" and request.url.path.startswith("/static/"):
            continue
        response.headers.setdefault(name, value)
    return response


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def _found(value: Any) -> Any:
    if value is None:
        raise PageNotFoundError
    return value


def _safe_next(path: str) -> str:
    """Only a path of this site: never another host (an open redirect)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _as_mapping(form: StarletteForm) -> FormData:
    mapping: dict[str, str | list[str]] = {}
    for key in form:
        values = [value for value in form.getlist(key) if isinstance(value, str)]
        mapping[key] = values[0] if len(values) == 1 and key != "urusan" else values
    return mapping


def _form_of_body(body: dict[str, Any]) -> FormData:
    """A sent report back into form fields, to show it again beside its reasons."""
    fields: dict[str, str | list[str]] = {
        name: str(value) for name, value in body.items() if isinstance(value, str | int) and name != "indicators"
    }
    fields["urusan"] = [str(item) for item in body.get("urusan") or []]
    for indicator_id, claim in (body.get("indicators") or {}).items():
        fields[f"ind-{indicator_id}-level"] = str(claim.get("level", ""))
        if claim.get("basis"):
            fields[f"ind-{indicator_id}-basis"] = str(claim["basis"])
        for index, item in enumerate(claim.get("evidence") or []):
            fields[f"ind-{indicator_id}-ev-{index}-title"] = str(item.get("title", ""))
            fields[f"ind-{indicator_id}-ev-{index}-uri"] = str(item.get("uri", ""))
    return fields
