"""Corrections at the window the same day (DOMAIN rules 13-14): re-open a slot, undo a no-show, and the
doctor's list of doses handed out outside every window."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CtxDep
from api.schemas import CorrectionRequest, OutsideWindowRead, SlotRead
from dispensing.models import Dispense, Patient, Slot, User
from dispensing.services import corrections, windows
from dispensing.services.context import Ctx

router = APIRouter(tags=["window"])


def slot_read(s: Slot) -> SlotRead:
    return SlotRead(
        slot_id=s.id, date=s.slot_date, patient_id=s.patient_id, drug=s.drug, status=s.status.value, reason=s.reason
    )


@router.post("/slots/{slot_id}/reopen", response_model=SlotRead)
def reopen(slot_id: int, body: CorrectionRequest, ctx: CtxDep):
    """Doctor: today's withheld or voided dose is due again; the nurse dispenses it as usual."""
    return slot_read(corrections.reopen_slot(ctx, slot_id, body.reason))


@router.post("/slots/{slot_id}/undo-no-show", response_model=SlotRead)
def undo_no_show(slot_id: int, body: CorrectionRequest, ctx: CtxDep):
    """Nurse: the patient turned up after all; today's no-show is undone."""
    return slot_read(corrections.undo_no_show(ctx, slot_id, body.reason))


@router.get("/reports/outside-window", response_model=list[OutsideWindowRead])
def outside_window(ctx: CtxDep, from_: Annotated[date | None, Query(alias="from")] = None, to: date | None = None):
    """Doctor, admin: doses handed out outside every window for their drug, with the nurse's reason
    (default: the last 7 days)."""
    until = to or ctx.today
    since = from_ or until - timedelta(days=6)
    items = windows.outside_window_dispenses(ctx, since, until)
    return [outside_window_read(ctx, d) for d in items]


def outside_window_read(ctx: Ctx, d: Dispense) -> OutsideWindowRead:
    patient = ctx.session.get(Patient, d.patient_id)
    nurse = ctx.session.get(User, d.dispensed_by_id)
    return OutsideWindowRead(
        dispense_id=d.id,
        slot_id=d.slot_id,
        date=d.first_day,
        patient_id=d.patient_id,
        patient_name=patient.name,
        drug=d.drug.value,
        site_id=d.site_id,
        dispensed_at=d.dispensed_at.isoformat(),
        dispensed_by=nurse.full_name if nurse else "",
        reason=d.outside_window_reason,
    )
