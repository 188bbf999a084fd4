"""What the doctor must follow up: 6-month consultations (rule 9), the treatment guarantee (rule 10)
and the monthly SIB report of substitution treatment (rule 12)."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from dispensing.enums import OPIOIDS, Role
from dispensing.errors import InvalidInput
from dispensing.models import Consultation, Patient, Prescription, User
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.patients import load_patient
from dispensing.services.prescriptions import SIGNED, governing_orders

SOON_DAYS = 14  # list a consultation as due this long before its date


def record_consultation(ctx: Ctx, patient_id: int, *, held_on: date, plan: str) -> Consultation:
    """Doctor: a consultation was held and a new treatment plan made."""
    doctor = ctx.require(Role.DOCTOR)
    load_patient(ctx, patient_id)
    if held_on > ctx.today:
        raise InvalidInput("followup.held_in_future", held_on=held_on)
    if not plan or not plan.strip():
        raise InvalidInput("followup.plan_required")
    c = Consultation(patient_id=patient_id, held_on=held_on, plan=plan.strip(), doctor_id=doctor.id, created_at=ctx.now)
    ctx.session.add(c)
    ctx.session.flush()
    audit.record(ctx, "consultation.record", "consultation", c.id, patient_id=patient_id, detail={"held_on": held_on})
    return c


def list_consultations(ctx: Ctx, patient_id: int) -> list[Consultation]:
    ctx.require(Role.NURSE, Role.DOCTOR, Role.ADMIN)
    load_patient(ctx, patient_id)
    audit.record(ctx, "consultation.list", "patient", patient_id, patient_id=patient_id)
    return list(
        ctx.session.execute(
            select(Consultation).where(Consultation.patient_id == patient_id).order_by(Consultation.held_on.desc())
        ).scalars()
    )


@dataclass(frozen=True)
class Due:
    patient: Patient
    due_on: date
    last_on: date | None


def consultations_due(ctx: Ctx) -> list[Due]:
    """Patients in substitution treatment whose consultation is due within two weeks or overdue."""
    ctx.require(Role.DOCTOR)
    today = ctx.today
    orders = [o for o in governing_orders(ctx, today) if o.drug in OPIOIDS]
    starts: dict[int, date] = {}
    patients: dict[int, Patient] = {}
    for o in orders:
        starts[o.patient_id] = min(starts.get(o.patient_id, o.course_start), o.course_start)
        patients[o.patient_id] = o.patient
    last = (
        dict(
            ctx.session.execute(
                select(Consultation.patient_id, func.max(Consultation.held_on))
                .where(Consultation.patient_id.in_(starts))
                .group_by(Consultation.patient_id)
            ).all()
        )
        if starts
        else {}
    )
    interval = timedelta(days=ctx.policy.consultation_interval_days)
    due = [Due(patients[pid], (last.get(pid) or start) + interval, last.get(pid)) for pid, start in starts.items()]
    due = sorted((d for d in due if d.due_on <= today + timedelta(days=SOON_DAYS)), key=lambda d: d.due_on)
    audit.record_list(ctx, "consultation.list_due", (d.patient.id for d in due))
    return due


@dataclass(frozen=True)
class Guarantee:
    patient: Patient
    first_contact_on: date
    deadline: date
    treatment_started: bool
    consultation_held: bool


def treatment_guarantee(ctx: Ctx) -> list[Guarantee]:
    """Patients within or past the 14-day guarantee (SUL §142) without a start or a doctor's consultation."""
    ctx.require(Role.DOCTOR, Role.ADMIN)
    days = timedelta(days=ctx.policy.treatment_guarantee_days)
    patients = (
        ctx.session.execute(
            select(Patient).where(
                Patient.first_contact_on.is_not(None), Patient.first_contact_on >= ctx.today - 4 * days
            )
        )
        .scalars()
        .all()
    )
    ids = [p.id for p in patients]
    started = (
        set(
            ctx.session.execute(
                select(Prescription.patient_id).where(Prescription.patient_id.in_(ids), Prescription.status.in_(SIGNED))
            ).scalars()
        )
        if ids
        else set()
    )
    seen = (
        set(ctx.session.execute(select(Consultation.patient_id).where(Consultation.patient_id.in_(ids))).scalars())
        if ids
        else set()
    )
    rows = [
        Guarantee(p, first, first + days, p.id in started, p.id in seen)
        for p in patients
        if (first := p.first_contact_on) is not None  # the query read only patients with one
        and (p.id not in started or p.id not in seen)
    ]
    audit.record_list(ctx, "guarantee.list", (g.patient.id for g in rows))
    return sorted(rows, key=lambda g: g.deadline)


@dataclass(frozen=True)
class SibRow:
    cpr: str
    drug: str
    product: str
    prescriber_authorisation_id: str | None
    first_day: date
    last_day: date


def sib_report(ctx: Ctx, year: int, month: int) -> list[SibRow]:
    """Substitution treatment in a month for the national register (SIB): CPR, preparation, prescriber."""
    ctx.require(Role.DOCTOR, Role.ADMIN)
    if not 1 <= month <= 12:
        raise InvalidInput("followup.month_invalid")
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    rows = ctx.session.execute(
        select(Prescription, Patient.cpr, User.authorisation_id)
        .join(Patient, Patient.id == Prescription.patient_id)
        .join(User, User.id == Prescription.signed_by_id)
        .where(Prescription.drug.in_(OPIOIDS), Prescription.status.in_(SIGNED), Prescription.start_date <= last)
        .order_by(Patient.cpr, Prescription.start_date)
    ).all()
    report = []
    for order, cpr, auth_id in rows:
        end = order.last_day
        if end is not None and end < max(first, order.start_date):
            continue
        report.append(
            SibRow(
                cpr=cpr,
                drug=order.drug.value,
                product=order.product,
                prescriber_authorisation_id=auth_id,
                first_day=max(first, order.start_date),
                last_day=min(last, end) if end else last,
            )
        )
    audit.record(
        ctx,
        "report.sib",
        "report",
        detail={
            "month": f"{year:04d}-{month:02d}",
            "rows": len(report),
            "patient_ids": sorted({o.patient_id for o, _, _ in rows}),
        },
    )
    return report
