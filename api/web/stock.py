"""The nurse's stock screens for controlled drugs: balances, receipt, count, waste, correction, ledger."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.web import i18n
from api.web.common import Draw, PostCtx, WebCtx, attempt, page, parse_date, redirect, refusal
from dispensing.catalogue import STOCK_ITEMS
from dispensing.enums import Role, SiteKind
from dispensing.errors import DispensingError, InvalidInput
from dispensing.services import alerts, stock, stock_pdf
from dispensing.services.context import Ctx
from dispensing.services.sites import list_sites

router = APIRouter(prefix="/ui", include_in_schema=False)

UNIT_DA = {"ml": "ml", "tablet": "tabletter"}
KIND_DA = {k.value: v for k, v in stock_pdf.KIND_DA.items()}


def _clinic_id(ctx: Ctx, site_id: int | None) -> int:
    """The chosen clinic, else the nurse's own clinic, else the first clinic."""
    if site_id is not None:
        return site_id
    if ctx.actor.site_id is not None:
        return ctx.actor.site_id
    clinic = next((s for s in list_sites(ctx) if s.kind == SiteKind.CLINIC), None)
    if clinic is None:
        raise InvalidInput("stock.site_not_found", site_id=0)
    return clinic.id


def _stock_page(
    request: Request,
    ctx: Ctx,
    site_id: int | None,
    *,
    error: DispensingError | None = None,
    status: int = 200,
):
    sid = _clinic_id(ctx, site_id)
    rows = stock.balances(ctx, sid)
    site = stock.clinic(ctx, sid)
    flags = []
    if ctx.actor.role in (Role.DOCTOR, Role.ADMIN):  # the site's open stock alerts, to review here too
        flags = [a for a in alerts.open_alerts(ctx) if a.patient_id is None and a.site_id == sid]
    return page(
        request,
        "stock.html",
        ctx,
        status=status,
        site=site,
        clinics=[s for s in list_sites(ctx) if s.kind == SiteKind.CLINIC],
        rows=rows,
        items=sorted(STOCK_ITEMS.values(), key=lambda i: i.code),
        unit_da=UNIT_DA,
        num=stock_pdf.number,
        error=refusal(error),
        today=ctx.today,
        month=ctx.today.strftime("%Y-%m"),
        stock_flags=flags,
        resolve_base="/ui/stock/alerts",
    )


def _stock_page_for(request: Request, site_id: int | None) -> Draw:
    """The stock page with a refusal on it."""
    return lambda ctx, error: _stock_page(request, ctx, site_id, error=error, status=error.status_code)


@router.get("/stock")
def stock_home(request: Request, ctx: WebCtx, site_id: int | None = None):
    """Balances per product at the clinic, with the forms for receipt, count and waste."""
    return _stock_page(request, ctx, site_id)


def _witness(username: str, password: str) -> stock.Witness:
    return stock.Witness(username=username, password=password)


def _done(request: Request, ctx: Ctx, site_id: int, fn, message: str, **kw):
    result = attempt(ctx, fn, site_id, **kw, on_refusal=_stock_page_for(request, site_id))
    if isinstance(result, stock.CountResult):  # the count's outcome, with its difference, on the next page
        message = i18n.gettext(
            "Counted {counted}, expected {expected}: difference {difference}.",
            counted=stock_pdf.number(result.counted),
            expected=stock_pdf.number(result.expected),
            difference=stock_pdf.number(result.difference),
        )
        if result.alert:
            message += " " + i18n.gettext("Beyond the tolerance: the doctor and the admin are alerted.")
    return redirect(request, f"/ui/stock?site_id={site_id}", message)


Text = Annotated[str, Form()]


@router.post("/stock/receipts")
def receipt(
    request: Request,
    ctx: PostCtx,
    site_id: Annotated[int, Form()],
    product: Text = "",
    quantity: Text = "",
    batch: Text = "",
    expiry: Text = "",
    supplier: Text = "",
    witness_username: Text = "",
    witness_password: Text = "",
):
    try:
        expiry_day = date.fromisoformat(expiry)
    except ValueError:
        return _stock_page(request, ctx, site_id, error=InvalidInput("stock.expiry_required"), status=422)
    return _done(
        request,
        ctx,
        site_id,
        stock.receive,
        i18n.gettext("Stock received."),
        product=product,
        quantity=quantity,
        batch=batch,
        expiry=expiry_day,
        supplier=supplier,
        witness=_witness(witness_username, witness_password),
    )


@router.post("/stock/counts")
def count(
    request: Request,
    ctx: PostCtx,
    site_id: Annotated[int, Form()],
    product: Text = "",
    counted: Text = "",
    witness_username: Text = "",
    witness_password: Text = "",
):
    return _done(
        request,
        ctx,
        site_id,
        stock.count,
        "",
        product=product,
        counted=counted,
        witness=_witness(witness_username, witness_password),
    )


@router.post("/stock/waste")
def waste(
    request: Request,
    ctx: PostCtx,
    site_id: Annotated[int, Form()],
    product: Text = "",
    quantity: Text = "",
    reason: Text = "",
    witness_username: Text = "",
    witness_password: Text = "",
):
    return _done(
        request,
        ctx,
        site_id,
        stock.waste,
        i18n.gettext("Waste recorded."),
        product=product,
        quantity=quantity,
        reason=reason,
        witness=_witness(witness_username, witness_password),
    )


@router.post("/stock/corrections")
def correction(
    request: Request,
    ctx: PostCtx,
    site_id: Annotated[int, Form()],
    product: Text = "",
    quantity: Text = "",
    reason: Text = "",
    corrects_id: Annotated[int | None, Form()] = None,
    witness_username: Text = "",
    witness_password: Text = "",
):
    return _done(
        request,
        ctx,
        site_id,
        stock.correct,
        i18n.gettext("Correction recorded."),
        product=product,
        quantity=quantity,
        reason=reason,
        corrects_id=corrects_id,
        witness=_witness(witness_username, witness_password),
    )


@router.post("/stock/alerts/{alert_id}/resolve")
def resolve(request: Request, ctx: PostCtx, alert_id: int, resolution: Text = ""):
    """Doctor or admin: a count difference or negative balance reviewed."""
    alert = attempt(ctx, alerts.resolve_alert, alert_id, resolution, on_refusal=_stock_page_for(request, None))
    return redirect(request, f"/ui/stock?site_id={alert.site_id}", i18n.gettext("Alert reviewed."))


@router.get("/stock/ledger")
def ledger(
    request: Request,
    ctx: WebCtx,
    site_id: int,
    product: str,
    start: str | None = None,
    end: str | None = None,
):
    """One product's ledger for a period with the running balance, who and the witness."""
    first = parse_date(start, ctx.today - timedelta(days=30))
    last = parse_date(end, ctx.today)
    g = stock.ledger(ctx, site_id, product, first, last)
    return page(
        request,
        "stock_ledger.html",
        ctx,
        g=g,
        start=first,
        end=last,
        unit=UNIT_DA[g.item.unit],
        kind_da=KIND_DA,
        num=stock_pdf.number,
        ref=stock.ref,
        tz=ctx.tz,
    )


@router.get("/stock/ledger.pdf")
def ledger_pdf(ctx: WebCtx, site_id: int, month: str, product: str | None = None):
    """The monthly ledger for the pharmacist inspector (PDF, Danish)."""
    content = stock_pdf.ledger_pdf(ctx, site_id, month, product or None)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="lagerregnskab-{site_id}-{month}.pdf"'},
    )
