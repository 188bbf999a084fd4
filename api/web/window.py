"""The nurse at the window: roster, dispense, no-show, labels, urine sample, breach."""

from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.web import i18n
from api.web.common import Draw, PostCtx, WebCtx, attempt, page, parse_date, redirect, refusal, require
from api.web.session import save
from api.web.views import roster_rows, search_rows, slot_view
from dispensing.enums import Role, SiteKind
from dispensing.errors import DispensingError, InvalidInput
from dispensing.models import BreachKind, Patient, Slot
from dispensing.rules.breath import parse_promille
from dispensing.services import afterwards, calendar, conduct, custody, labels, stock, urine
from dispensing.services import dispense as window
from dispensing.services.context import Ctx
from dispensing.services.contingency import contingency_sheet_pdf
from dispensing.services.records import get_or_404
from dispensing.services.roster import build_roster
from dispensing.services.sites import list_sites

router = APIRouter(prefix="/ui", include_in_schema=False)


async def _form_data(request: Request) -> dict:
    """All fields of the posted form (the urine panel has one field per substance)."""
    return dict(await request.form())


FormData = Annotated[dict, Depends(_form_data)]
WINDOW_ROLES = (Role.NURSE, Role.DOCTOR, Role.ADMIN)


def default_site_id(ctx: Ctx, sites) -> int | None:
    """The user's own site, else the first clinic."""
    if ctx.actor.site_id is not None:
        return ctx.actor.site_id
    clinic = next((s for s in sites if s.kind == SiteKind.CLINIC), None) or (sites[0] if sites else None)
    return clinic.id if clinic else None


@router.get("/roster")
def roster(request: Request, ctx: WebCtx, site_id: int | None = None, date: str | None = None, q: str = ""):
    """Who is due at the site on the date, with the window's badges; search by name or CPR digits."""
    require(ctx, *WINDOW_ROLES)
    sites = list_sites(ctx)
    site_id = site_id or default_site_id(ctx, sites)
    day = parse_date(date, ctx.today)
    site = next((s for s in sites if s.id == site_id), None)
    rows = roster_rows(build_roster(ctx, site_id, day)) if site else []
    shown = search_rows(rows, q)
    handled = sum(1 for r in rows if r.status != "due")
    return page(
        request,
        "roster.html",
        ctx,
        sites=sites,
        site=site,
        day=day,
        today=ctx.today,
        q=q,
        rows=shown,
        total=len(rows),
        handled=handled,
        closed_reason=calendar.site_closed_days(ctx, site, day, day).get(day) if site else None,
    )


def _slot_page(
    request: Request,
    ctx: Ctx,
    slot_id: int,
    *,
    error: DispensingError | None = None,
    form: dict | None = None,
    status: int = 200,
):
    view = slot_view(ctx, slot_id)
    return page(
        request,
        "slot.html",
        ctx,
        status=status,
        v=view,
        error=refusal(error),
        form=form or {},
        today=ctx.today,
        breach_kinds=list(BreachKind),
        panel=list(urine.PANEL),
        urine_names=i18n.URINE_PANEL,
    )


def _slot_page_for(request: Request, slot_id: int, form: dict | None = None) -> Draw:
    """The slot's page with a refusal on it (and what the nurse had typed)."""
    return lambda ctx, error: _slot_page(request, ctx, slot_id, error=error, form=form, status=error.status_code)


@router.get("/slots/{slot_id}")
def slot(request: Request, ctx: WebCtx, slot_id: int):
    """One patient's dose today: the dispense form (or what happened to it)."""
    require(ctx, *WINDOW_ROLES)
    return _slot_page(request, ctx, slot_id)


@router.post("/slots/{slot_id}/dispense")
def dispense(
    request: Request,
    ctx: PostCtx,
    slot_id: int,
    breath: Annotated[str, Form()] = "",
    supervised: Annotated[str | None, Form()] = None,
    take_home_days: Annotated[str, Form()] = "0",
    outside_window_reason: Annotated[str, Form()] = "",
):
    """The same use case as POST /slots/{id}/dispense; a withheld dose shows on the slot page."""
    form = {
        "breath": breath,
        "supervised": supervised is not None,
        "take_home_days": take_home_days,
        "outside_window_reason": outside_window_reason,
    }
    result = attempt(
        ctx,
        _dispense,
        slot_id,
        breath,
        supervised is not None,
        take_home_days,
        outside_window_reason,
        on_refusal=_slot_page_for(request, slot_id, form),
    )
    if result.status == "withheld":
        return redirect(request, f"/ui/slots/{slot_id}")
    return redirect(request, f"/ui/dispenses/{result.dispense.id}", i18n.gettext("The dose was handed out."))


def _dispense(
    ctx: Ctx,
    slot_id: int,
    breath: str,
    supervised: bool,
    take_home_days: str,
    late_reason: str = "",
    *,
    given_at: datetime | None = None,
):
    reading = None
    if breath.strip():
        try:
            reading = parse_promille(breath)
        except ValueError as exc:
            raise InvalidInput.of(exc) from exc
    days = take_home_days.strip() or "0"
    if not days.isdigit():
        raise InvalidInput("dispense.take_home_days_format")
    if given_at is not None:  # from the paper sheet: every rule judged at the sheet's time
        return afterwards.dispense_entered_afterwards(
            ctx, slot_id, given_at=given_at, breath_promille=reading, supervised=supervised, take_home_days=int(days)
        )
    return window.dispense(
        ctx,
        slot_id,
        breath_promille=reading,
        supervised=supervised,
        take_home_days=int(days),
        outside_window_reason=late_reason or None,
    )


@router.post("/slots/{slot_id}/paper")
def paper_record(
    request: Request,
    ctx: PostCtx,
    slot_id: int,
    given_time: Annotated[str, Form()] = "",
    breath: Annotated[str, Form()] = "",
    supervised: Annotated[str | None, Form()] = None,
    take_home_days: Annotated[str, Form()] = "0",
):
    """A dose handed out from the contingency sheet while the system was down, entered afterwards with
    the time on the sheet (the same use case as POST /slots/{id}/dispense with "given_at")."""
    form = {
        "paper_time": given_time,
        "paper_breath": breath,
        "paper_supervised": supervised is not None,
        "paper_take_home_days": take_home_days,
    }

    def enter(c: Ctx) -> window.DispenseResult:
        slot = get_or_404(c.session, Slot, slot_id)
        try:
            at = time.fromisoformat(given_time.strip())
        except ValueError:
            raise InvalidInput("paper.time_format") from None
        given_at = datetime.combine(slot.slot_date, at, tzinfo=c.tz)  # the sheet's wall clock, the clinic's zone
        return _dispense(c, slot_id, breath, supervised is not None, take_home_days, given_at=given_at)

    result = attempt(ctx, enter, on_refusal=_slot_page_for(request, slot_id, form | {"paper_open": True}))
    if result.status == "withheld":
        return redirect(request, f"/ui/slots/{slot_id}")
    return redirect(request, f"/ui/dispenses/{result.dispense.id}", i18n.gettext("Entered from the paper sheet."))


@router.post("/slots/{slot_id}/no-show")
def no_show(request: Request, ctx: PostCtx, slot_id: int, reason: Annotated[str, Form()] = ""):
    s = attempt(
        ctx,
        window.record_no_show,
        slot_id,
        reason or None,
        on_refusal=_slot_page_for(request, slot_id, {"no_show_reason": reason}),
    )
    return redirect(
        request,
        f"/ui/roster?site_id={s.site_id}&date={s.slot_date}",
        i18n.gettext("Recorded: {name} did not come.", name=ctx.session.get(Patient, s.patient_id).name),
    )


@router.post("/slots/{slot_id}/prepare")
def prepare(request: Request, ctx: PostCtx, slot_id: int, take_home_days: Annotated[str, Form()] = "0"):
    """A pickup site's dose, prepared and labelled at the clinic (custody.prepare_for_site)."""
    days = take_home_days.strip() or "0"
    if not days.isdigit():
        error = InvalidInput("dispense.take_home_days_format")
        return _slot_page(request, ctx, slot_id, error=error, status=422)
    d = attempt(
        ctx,
        custody.prepare_for_site,
        slot_id,
        take_home_days=int(days),
        on_refusal=_slot_page_for(request, slot_id, {"take_home_days": days}),
    )
    return redirect(request, f"/ui/dispenses/{d.id}", i18n.gettext("Prepared for the pickup site."))


@router.get("/dispenses/{dispense_id}")
def dispense_result(request: Request, ctx: WebCtx, dispense_id: int):
    """What was handed out (or prepared), with the label to print and the way back to the roster."""
    return _dispense_page(request, ctx, dispense_id)


def _dispense_page(request: Request, ctx: Ctx, dispense_id: int, *, error=None, status: int = 200):
    require(ctx, *WINDOW_ROLES)
    d = custody.get_dispense(ctx, dispense_id)
    view = slot_view(ctx, d.slot_id)
    has_labels = d.status.value != "void" and bool(labels.labelled_days(d, view.site))
    return page(
        request,
        "dispensed.html",
        ctx,
        d=d,
        v=view,
        has_labels=has_labels,
        covers=[date.fromisoformat(x) for x in d.covers],
        at=i18n.clock_time(d.dispensed_at, ctx.tz),
        recorded_at=d.recorded_at.astimezone(ctx.tz),
        can_void=ctx.actor.role in (Role.NURSE, Role.DOCTOR) and d.status.value in ("prepared", "dispensed"),
        error=refusal(error),
        status=status,
    )


def _dispense_page_for(request: Request, dispense_id: int) -> Draw:
    """The dispense's page with a refusal on it."""
    return lambda ctx, error: _dispense_page(request, ctx, dispense_id, error=error, status=error.status_code)


@router.post("/dispenses/{dispense_id}/void")
def void(
    request: Request,
    ctx: PostCtx,
    dispense_id: int,
    reason: Annotated[str, Form()] = "",
    witness_username: Annotated[str, Form()] = "",
    witness_password: Annotated[str, Form()] = "",
):
    """Void a dispense (custody.void_dispense): the form asks first (data-confirm) and needs a reason; a dose
    already handed over is voided before a witness who re-enters their password (rule 13)."""
    witness = stock.Witness(witness_username.strip(), witness_password) if witness_username.strip() else None
    d = attempt(
        ctx,
        custody.void_dispense,
        dispense_id,
        reason,
        witness=witness,
        on_refusal=_dispense_page_for(request, dispense_id),
    )
    return redirect(request, f"/ui/dispenses/{d.id}", i18n.gettext("Dispense {number} was voided.", number=d.number))


@router.get("/dispenses/{dispense_id}/label.pdf")
def label_pdf(request: Request, ctx: WebCtx, dispense_id: int):
    """The same PDF as GET /dispenses/{id}/label.pdf, with the browser session instead of a bearer token."""
    content = labels.dispense_label_pdf(ctx, dispense_id, "roll_89x36")
    return save(
        request,
        Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="etiket-{dispense_id}.pdf"'},
        ),
    )


@router.get("/sites/{site_id}/labels.pdf")
def site_labels_pdf(request: Request, ctx: WebCtx, site_id: int, date: str | None = None):
    day = parse_date(date, ctx.today)
    content = labels.site_labels_pdf(ctx, site_id, day, "a4_sheet")
    return save(
        request,
        Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="etiketter-{site_id}-{day}.pdf"'},
        ),
    )


@router.get("/sites/{site_id}/contingency.pdf")
def contingency_pdf(request: Request, ctx: WebCtx, site_id: int, date: str | None = None):
    """The same sheet as GET /sites/{id}/contingency.pdf, with the browser session."""
    day = parse_date(date, ctx.today)
    content = contingency_sheet_pdf(ctx, site_id, day)
    return save(
        request,
        Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="noedliste-{site_id}-{day}.pdf"'},
        ),
    )


@router.post("/patients/{patient_id}/urine")
def urine_sample(
    request: Request,
    ctx: PostCtx,
    patient_id: int,
    form_data: FormData,
    slot_id: Annotated[int, Form()],
    outcome: Annotated[str, Form()] = "sample",
    reason: Annotated[str, Form()] = "",
):
    """A sample collected today (with its results), a refusal, or 'not possible today' (urine.record_test)."""
    results = {k: form_data.get(f"result_{k}") for k in urine.PANEL if form_data.get(f"result_{k}") in ("neg", "pos")}
    kw: dict = {"reason": reason}
    if outcome == "refused":
        kw["refused"] = True
    elif outcome == "not_possible":
        kw["not_possible"] = True
    else:
        kw.update(collected_on=ctx.today, results=results)
    attempt(ctx, urine.record_test, patient_id, **kw, on_refusal=_slot_page_for(request, slot_id))
    return redirect(request, f"/ui/slots/{slot_id}", i18n.gettext("Urine sample recorded."))


@router.post("/patients/{patient_id}/breaches")
def breach(
    request: Request,
    ctx: PostCtx,
    patient_id: int,
    slot_id: Annotated[int, Form()],
    kind: Annotated[str, Form()],
    occurred_on: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
):
    attempt(
        ctx,
        conduct.record_breach,
        patient_id,
        kind=kind,
        occurred_on=parse_date(occurred_on, ctx.today),
        note=note,
        on_refusal=_slot_page_for(request, slot_id),
    )
    return redirect(
        request,
        f"/ui/slots/{slot_id}",
        i18n.gettext("Breach recorded: the doctor will decide at the treatment meeting."),
    )
