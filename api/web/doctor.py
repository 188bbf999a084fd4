"""The consultant doctor's desk: drafts to sign, flags to review, orders written and revised."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Request

from api.web import i18n
from api.web.common import Draw, PageRefusal, PostCtx, WebCtx, attempt, page, parse_date, redirect, refusal, require
from api.web.views import dose_text, titration_limits
from dispensing.catalogue import CATALOGUE
from dispensing.enums import Drug, Role, SiteKind
from dispensing.errors import DispensingError, InvalidInput
from dispensing.models import AlertKind, Patient, Prescription, Slot, SlotStatus, User
from dispensing.rules.cpr import mask_cpr
from dispensing.rules.split import Part
from dispensing.rules.steps import Step, parse_steps
from dispensing.services import afterwards, alerts, calendar, conduct, followup, prescriptions, sanctions, windows
from dispensing.services.context import Ctx
from dispensing.services.dispense import release_block
from dispensing.services.patients import read_patient, search_patients
from dispensing.services.sites import list_sites

router = APIRouter(prefix="/ui", include_in_schema=False)
STAFF = (Role.NURSE, Role.DOCTOR, Role.ADMIN)
OUTSIDE_WINDOW_DAYS = 7  # how far back the desk lists doses handed out outside the dispensing times
ALL_DAYS = list(range(7))


def _drug(code: str) -> Drug:
    try:
        return Drug(code)
    except ValueError:
        raise InvalidInput("order.unknown_drug", code=code) from None


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
    attempt(ctx, release_block, patient_id, _drug(drug), reason, on_refusal=_desk_for(request))
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


# --- writing and revising orders ------------------------------------------------------------------


def _order_page(
    request: Request,
    ctx: Ctx,
    patient_id: int,
    drug: Drug,
    values: dict,
    *,
    current: Prescription | None = None,
    error: DispensingError | None = None,
    problems: list[str] | None = None,
    status: int = 200,
):
    patient = read_patient(ctx, patient_id)  # after a refusal too: the read is audited in what is committed
    info = CATALOGUE[drug]
    return page(
        request,
        "order_form.html",
        ctx,
        status=status,
        p=patient,
        drug=drug,
        info=info,
        values=values,
        current=current,
        sites=[s for s in list_sites(ctx) if s.kind != SiteKind.POLICE],
        limits=titration_limits(ctx.policy),
        error=refusal(error),
        problems=problems,
        today=ctx.today,
        mask=mask_cpr,
    )


def _order_page_for(request: Request, patient_id: int, drug: Drug, values: dict, current_id: int | None = None) -> Draw:
    """The order form with a refusal on it (and what the doctor had typed); the order revised is read again."""

    def draw(ctx: Ctx, error: DispensingError):
        current = prescriptions.get_order(ctx, current_id) if current_id is not None else None
        return _order_page(
            request, ctx, patient_id, drug, values, current=current, error=error, status=error.status_code
        )

    return draw


def _defaults(ctx: Ctx, drug: Drug) -> dict:
    return {
        "product": CATALOGUE[drug].products[0].code,
        "dose": "",
        "weekdays": ALL_DAYS,
        "pickup_weekdays": ALL_DAYS,
        "supervised": True,
        "site_id": None,  # no default: the doctor chooses (never the police station, rules 6 and 8)
        "start_date": ctx.today.isoformat(),
        "end_date": "",
        "indication": "",
        "override_reason": "",
        "reason": "",
        "steps": "",
        "doses": "",
    }


@router.get("/doctor/orders/new")
def new_order(request: Request, ctx: WebCtx, patient_id: int, drug: str | None = None):
    require(ctx, Role.DOCTOR)
    if drug not in {d.value for d in Drug}:
        p = read_patient(ctx, patient_id)
        return page(request, "order_drug.html", ctx, p=p, drugs=list(CATALOGUE.values()), mask=mask_cpr)
    return _order_page(request, ctx, patient_id, Drug(drug), _defaults(ctx, Drug(drug)))


def _form_values(
    product,
    dose,
    weekdays,
    pickup_weekdays,
    supervised,
    site_id,
    start_date,
    end_date,
    indication,
    override_reason,
    reason="",
    steps="",
    doses="",
) -> dict:
    return {
        "product": product,
        "dose": dose,
        "weekdays": weekdays,
        "pickup_weekdays": pickup_weekdays,
        "supervised": supervised is not None,
        "site_id": site_id,
        "start_date": start_date,
        "end_date": end_date,
        "indication": indication,
        "override_reason": override_reason,
        "reason": reason,
        "steps": steps,
        "doses": doses,
    }


def _steps(text: str) -> tuple[Step, ...]:
    """Dose steps from the form: one "YYYY-MM-DD mg" per line (rule 18)."""
    steps = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = line.replace(",", ".").split()
        try:
            steps.append(Step(date.fromisoformat(parts[0]), Decimal(parts[1])))
        except (IndexError, ValueError, ArithmeticError):
            raise InvalidInput("order.step_unreadable", line=line.strip()) from None
    return tuple(steps)


def _parts(text: str) -> tuple[Part, ...]:
    """A split dose from the form: one "HH:MM mg S|H" per line (S supervised, H take-home; rule 18)."""
    parts = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        fields = line.replace(",", ".").split()
        try:
            at, dose, how = (fields + ["S"])[:3] if len(fields) == 2 else fields
            if how.upper() not in ("S", "H"):
                raise ValueError(how)
            parts.append(Part(time.fromisoformat(at), Decimal(dose), how.upper() == "S"))
        except (ValueError, ArithmeticError):
            raise InvalidInput("order.part_unreadable", line=line.strip()) from None
    return tuple(parts)


def parts_text(order: Prescription) -> str:
    return "\n".join(
        f"{p.at.strftime('%H:%M') if p.at else ''} {i18n.mg(p.dose_mg)} {'S' if p.supervised else 'H'}".strip()
        for p in order.parts
    )


def steps_text(order: Prescription, after: date) -> str:
    """The order's steps still to come after `after`, as the form writes them."""
    steps = parse_steps(order.dose_steps) if order.dose_steps else ()
    return "\n".join(f"{s.from_date.isoformat()} {i18n.mg(s.dose_mg)}" for s in steps if s.from_date > after)


def _date_or_refuse(text: str, what: str, *, optional: bool = False) -> date | None:
    text = (text or "").strip()
    if not text and optional:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("input.date_format", what=what) from None


def _dose(text: str) -> Decimal | str:
    return (text or "").strip().replace(",", ".")


def _check(ctx: Ctx, patient_id: int, terms: prescriptions.OrderTerms) -> list[str]:
    """What the service would refuse, without writing: the terms, then the titration limits."""
    ctx.require(Role.DOCTOR)
    terms, _ = prescriptions.validate_terms(ctx, terms)
    return prescriptions.titration_problems(ctx, patient_id, terms.drug, terms.dose_mg, terms.start_date, terms.steps)


Days = Annotated[list[int] | None, Form()]  # checked weekdays; none checked = None


@router.post("/doctor/orders")
def create_order(
    request: Request,
    ctx: PostCtx,
    patient_id: Annotated[int, Form()],
    drug: Annotated[str, Form()],
    product: Annotated[str, Form()] = "",
    dose: Annotated[str, Form()] = "",
    weekdays: Days = None,
    pickup_weekdays: Days = None,
    supervised: Annotated[str | None, Form()] = None,
    site_id: Annotated[int, Form()] = 0,
    start_date: Annotated[str, Form()] = "",
    end_date: Annotated[str, Form()] = "",
    indication: Annotated[str, Form()] = "",
    override_reason: Annotated[str, Form()] = "",
    steps: Annotated[str, Form()] = "",
    doses: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "create",
):
    """A new draft (prescriptions.create_order); "check" shows what the service would refuse, writing nothing."""
    require(ctx, Role.DOCTOR)
    weekdays, pickup_weekdays = weekdays or [], pickup_weekdays or []
    the_drug = _drug(drug)
    values = _form_values(
        product,
        dose,
        weekdays,
        pickup_weekdays,
        supervised,
        site_id,
        start_date,
        end_date,
        indication,
        override_reason,
        steps=steps,
        doses=doses,
    )

    def terms(c: Ctx) -> prescriptions.OrderTerms:
        return prescriptions.OrderTerms(
            drug=the_drug,
            product=product or None,
            dose_mg=_dose(dose),
            weekdays=tuple(weekdays),
            pickup_weekdays=tuple(pickup_weekdays) if pickup_weekdays else None,
            supervised=supervised is not None,
            site_id=site_id,
            start_date=_date_or_refuse(start_date, "start_date"),
            end_date=_date_or_refuse(end_date, "end_date", optional=True),
            indication=indication,
            override_reason=override_reason or None,
            steps=_steps(steps),
            parts=_parts(doses),
        )

    refused = _order_page_for(request, patient_id, the_drug, values)
    if action == "check":
        problems = attempt(ctx, lambda c: _check(c, patient_id, terms(c)), on_refusal=refused)
        return _order_page(request, ctx, patient_id, the_drug, values, problems=problems)
    order = attempt(ctx, lambda c: prescriptions.create_order(c, patient_id, terms(c)), on_refusal=refused)
    return redirect(
        request, f"/ui/doctor#draft-{order.id}", i18n.gettext("The draft was created: it is active once signed.")
    )


@router.get("/doctor/orders/{order_id}/revise")
def revise_form(request: Request, ctx: WebCtx, order_id: int):
    require(ctx, Role.DOCTOR)
    current = prescriptions.read_order(ctx, order_id)
    effective = max(ctx.today, current.start_date)
    values = {
        "product": current.product,
        "dose": i18n.mg(current.dose_on(effective)),  # a schedule's step in force, not its first dose
        "weekdays": sorted(current.weekday_set),
        "pickup_weekdays": sorted(current.pickup_weekday_set),
        "supervised": current.supervised,
        "site_id": current.site_id,
        "start_date": effective.isoformat(),
        "end_date": current.end_date.isoformat() if current.end_date else "",
        "indication": current.indication,
        "override_reason": "",
        "reason": "",
        "steps": steps_text(current, effective),
        "doses": parts_text(current),
    }
    return _order_page(request, ctx, current.patient_id, current.drug, values, current=current)


@router.post("/doctor/orders/{order_id}/revise")
def revise(
    request: Request,
    ctx: PostCtx,
    order_id: int,
    product: Annotated[str, Form()] = "",
    dose: Annotated[str, Form()] = "",
    weekdays: Days = None,
    pickup_weekdays: Days = None,
    supervised: Annotated[str | None, Form()] = None,
    site_id: Annotated[int, Form()] = 0,
    start_date: Annotated[str, Form()] = "",
    end_date: Annotated[str, Form()] = "",
    indication: Annotated[str, Form()] = "",
    override_reason: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    steps: Annotated[str, Form()] = "",
    doses: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "create",
):
    """A new draft version (prescriptions.revise_order), superseding the order once signed."""
    require(ctx, Role.DOCTOR)
    weekdays, pickup_weekdays = weekdays or [], pickup_weekdays or []
    current = prescriptions.get_order(ctx, order_id)
    patient_id = current.patient_id
    values = _form_values(
        product,
        dose,
        weekdays,
        pickup_weekdays,
        supervised,
        site_id,
        start_date,
        end_date,
        indication,
        override_reason,
        reason,
        steps,
        doses,
    )
    refused = _order_page_for(request, patient_id, current.drug, values, order_id)

    def changes() -> dict:
        return {
            "product": product or current.product,
            "dose_mg": _dose(dose),
            "weekdays": weekdays,
            "pickup_weekdays": pickup_weekdays or None,
            "supervised": supervised is not None,
            "site_id": site_id,
            "end_date": _date_or_refuse(end_date, "end_date", optional=True),
            "indication": indication,
            "override_reason": override_reason or None,
            "steps": _steps(steps),
            "parts": _parts(doses),
        }

    if action == "check":

        def check(c: Ctx) -> list[str]:
            ch = changes()
            terms = prescriptions.OrderTerms(
                drug=current.drug,
                product=ch["product"],
                dose_mg=ch["dose_mg"],
                weekdays=tuple(weekdays),
                pickup_weekdays=tuple(pickup_weekdays) if pickup_weekdays else None,
                supervised=ch["supervised"],
                site_id=site_id,
                start_date=_date_or_refuse(start_date, "effective_date"),
                end_date=ch["end_date"],
                indication=indication,
                override_reason=ch["override_reason"],
                steps=ch["steps"],
                parts=ch["parts"],
            )
            return _check(c, current.patient_id, terms)

        problems = attempt(ctx, check, on_refusal=refused)
        return _order_page(request, ctx, patient_id, current.drug, values, current=current, problems=problems)
    order = attempt(
        ctx,
        lambda c: prescriptions.revise_order(
            c, order_id, changes(), _date_or_refuse(start_date, "effective_date"), reason
        ),
        on_refusal=refused,
    )
    return redirect(
        request, f"/ui/doctor#draft-{order.id}", i18n.gettext("The draft was created: it is active once signed.")
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
