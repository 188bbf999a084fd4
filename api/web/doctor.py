"""The consultant doctor's desk: drafts to sign, flags to review, orders written and revised."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request

from api.web import i18n
from api.web.common import (
    Draw,
    PageRefusal,
    PostCtx,
    WebCtx,
    attempt,
    page,
    parse_date,
    parse_drug,
    redirect,
    refusal,
    require,
)
from api.web.views import dose_text
from dispensing.catalogue import CATALOGUE
from dispensing.enums import Role
from dispensing.errors import DispensingError, InvalidInput
from dispensing.models import AlertKind, Patient, Prescription, Slot, SlotStatus, User
from dispensing.rules.cpr import mask_cpr
from dispensing.rules.steps import parse_steps
from dispensing.services import afterwards, alerts, calendar, conduct, followup, prescriptions, sanctions, windows
from dispensing.services.context import Ctx
from dispensing.services.dispense import release_block
from dispensing.services.patients import read_patient, search_patients
from dispensing.services.sites import list_sites

router = APIRouter(prefix="/ui", include_in_schema=False)
STAFF = (Role.NURSE, Role.DOCTOR, Role.ADMIN)
OUTSIDE_WINDOW_DAYS = 7  # how far back the desk lists doses handed out outside the dispensing times


def _patients(ctx: Ctx, ids) -> dict[int, Patient]:
    return {pid: ctx.session.get(Patient, pid) for pid in set(ids)}


def _name(ctx: Ctx, user_id: int) -> str:
    user = ctx.session.get(User, user_id)
    return user.full_name if user else ""


def _desk(request: Request, ctx: Ctx, *, error: DispensingError | None = None, status: int = 200):
    require(ctx, Role.DOCTOR)
    drafts = prescriptions.drafts_to_sign(ctx)
    flags = alerts.open_alerts(ctx)
    stock_flags = [a for a in flags if a.patient_id is None]  # site alerts of the controlled-drug ledger
    flags = [a for a in flags if a.patient_id is not None]
    breaches = conduct.undecided_breaches(ctx)
    review = sanctions.due_for_review(ctx)
    consultations = followup.consultations_due(ctx)
    on_paper = afterwards.entered_afterwards(ctx, ctx.today)
    late = windows.outside_window_dispenses(ctx, ctx.today - timedelta(days=OUTSIDE_WINDOW_DAYS - 1), ctx.today)
    unresolved = calendar.unresolved_ahead(ctx)  # rule 17: closed days' doses the doctor must decide
    people = _patients(
        ctx,
        [o.patient_id for o in drafts]
        + [a.patient_id for a in flags]
        + [b.patient_id for b in breaches]
        + [s.patient_id for s in review]
        + [d.patient_id for d in on_paper]
        + [d.patient_id for d in late],
    )
    # A withheld dose of today may be re-opened from its flag (the patient came back sober).
    flagged = [ctx.session.get(Slot, a.slot_id) for a in flags if a.kind == AlertKind.WITHHELD_DOSE and a.slot_id]
    reopenable = {s.id for s in flagged if s and s.slot_date == ctx.today and s.status == SlotStatus.WITHHELD}
    return page(
        request,
        "doctor.html",
        ctx,
        status=status,
        drafts=drafts,
        flags=flags,
        stock_flags=stock_flags,
        resolve_base="/ui/doctor/alerts",
        breaches=breaches,
        review=review,
        consultations=consultations,
        on_paper=on_paper,
        recorders={u.id: u.full_name for u in (ctx.session.get(User, d.recorded_by_id) for d in on_paper)},
        tz=ctx.tz,
        people=people,
        late=late,
        late_days=OUTSIDE_WINDOW_DAYS,
        staff_names={d.dispensed_by_id: _name(ctx, d.dispensed_by_id) for d in late},
        late_times={d.id: i18n.clock_time(d.dispensed_at, ctx.tz) for d in late},
        reopenable=reopenable,
        sign_error=error.code if error is not None else None,
        mask=mask_cpr,
        today=ctx.today,
        error=refusal(error),
        products={o.id: CATALOGUE[o.drug].product(o.product) for o in drafts},
        doses={o.id: dose_text(o.drug, CATALOGUE[o.drug].product(o.product), o.dose_mg) for o in drafts},
        sites={s.id: s.name for s in list_sites(ctx)},
        authors={u.id: u.full_name for u in _users(ctx, [o.created_by_id for o in drafts])},
        me=ctx.actor.id,
        written={o.id: _when(o.created_at, ctx) for o in drafts},
        steps={o.id: parse_steps(o.dose_steps) for o in drafts if o.dose_steps},
        unresolved=unresolved,
        closure_days=ctx.policy.closure_plan_days_ahead,
    )


def _when(at: datetime, ctx: Ctx) -> str:
    local = at.astimezone(ctx.tz)
    return i18n.gettext("{day} at {time}", day=i18n.day(local.date()), time=f"{local:%H:%M}")


def _users(ctx: Ctx, ids) -> list[User]:
    return [u for u in (ctx.session.get(User, i) for i in set(ids)) if u is not None]


def _desk_for(request: Request) -> Draw:
    """The desk with a refusal on it."""
    return lambda ctx, error: _desk(request, ctx, error=error, status=error.status_code)


@router.get("/doctor")
def desk(request: Request, ctx: WebCtx):
    return _desk(request, ctx)


@router.post("/doctor/orders/{order_id}/sign")
def sign(
    request: Request,
    ctx: PostCtx,
    order_id: int,
    password: Annotated[str, Form()] = "",
    colleague_confirmed: Annotated[str | None, Form()] = None,
    window_override_reason: Annotated[str, Form()] = "",
    opioid_overlap_reason: Annotated[str, Form()] = "",
):
    """Sign with the password re-entered (prescriptions.sign_order; a wrong password is audited); a flag
    (no window on a pickup weekday, another opioid in force) only with the doctor's reason. A draft
    another doctor wrote is signed only with a tick that the signer read it: the signer owns the order."""
    draft = ctx.session.get(Prescription, order_id)
    if draft is not None and draft.created_by_id != ctx.actor.id and colleague_confirmed is None:
        author = ctx.session.get(User, draft.created_by_id)
        error = InvalidInput("order.sign_colleague_unconfirmed", author=author.full_name if author else "")
        raise PageRefusal(error, _desk_for(request))
    attempt(
        ctx,
        prescriptions.sign_order,
        order_id,
        password,
        window_override_reason=window_override_reason or None,
        opioid_overlap_reason=opioid_overlap_reason or None,
        on_refusal=_desk_for(request),
    )
    return redirect(request, "/ui/doctor", i18n.gettext("Order {id} signed.", id=order_id))


@router.post("/doctor/alerts/{alert_id}/resolve")
def resolve(request: Request, ctx: PostCtx, alert_id: int, resolution: Annotated[str, Form()] = ""):
    attempt(ctx, alerts.resolve_alert, alert_id, resolution, on_refusal=_desk_for(request))
    return redirect(request, "/ui/doctor", i18n.gettext("Reviewed."))


@router.post("/doctor/patients/{patient_id}/release")
def release(
    request: Request, ctx: PostCtx, patient_id: int, drug: Annotated[str, Form()], reason: Annotated[str, Form()] = ""
):
    """A missed-dose block reviewed: the next dose may be given (dispense.release_block)."""
    attempt(ctx, release_block, patient_id, parse_drug(drug), reason, on_refusal=_desk_for(request))
    return redirect(request, "/ui/doctor", i18n.gettext("Block released: the next dose may be given."))


@router.post("/doctor/breaches/{breach_id}/decide")
def decide(request: Request, ctx: PostCtx, breach_id: int, note: Annotated[str, Form()] = ""):
    attempt(ctx, conduct.decide_without_sanction, breach_id, note, on_refusal=_desk_for(request))
    return redirect(request, "/ui/doctor", i18n.gettext("Decided without a sanction."))


@router.post("/doctor/sanctions/{sanction_id}/lift")
def lift(
    request: Request,
    ctx: PostCtx,
    sanction_id: int,
    ends_on: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
):
    attempt(
        ctx,
        sanctions.lift_sanction,
        sanction_id,
        ends_on=parse_date(ends_on, ctx.today),
        reason=reason,
        on_refusal=_desk_for(request),
    )
    return redirect(request, "/ui/doctor", i18n.gettext("Sanction lifted."))


# --- patients ---------------------------------------------------------------------------------------


@router.get("/patients")
def patients(request: Request, ctx: WebCtx, q: str = ""):
    require(ctx, *STAFF)
    found = search_patients(ctx, q, limit=50) if q.strip() else []
    return page(request, "patients.html", ctx, q=q, found=found, mask=mask_cpr)


@router.get("/patients/{patient_id}")
def patient(request: Request, ctx: WebCtx, patient_id: int):
    require(ctx, *STAFF)
    p = read_patient(ctx, patient_id)
    orders = prescriptions.list_orders(ctx, patient_id)
    in_force = sanctions.list_sanctions(ctx, patient_id)
    sites = {s.id: s for s in list_sites(ctx)}
    return page(
        request,
        "patient.html",
        ctx,
        p=p,
        orders=orders,
        sanctions=in_force,
        sites=sites,
        mask=mask_cpr,
        today=ctx.today,
        products={o.id: CATALOGUE[o.drug].product(o.product) for o in orders},
    )


@router.post("/doctor/patients/{patient_id}/consultations")
def consultation(
    request: Request,
    ctx: PostCtx,
    patient_id: int,
    plan: Annotated[str, Form()] = "",
    held_on: Annotated[str, Form()] = "",
):
    """A 6-monthly consultation held, with the new treatment plan (followup.record_consultation)."""
    attempt(
        ctx,
        followup.record_consultation,
        patient_id,
        held_on=parse_date(held_on, ctx.today),
        plan=plan,
        on_refusal=_desk_for(request),
    )
    return redirect(request, "/ui/doctor", i18n.gettext("Consultation recorded."))
