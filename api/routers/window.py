"""The dispensing window: roster, dispense, no-show, missed-dose release."""

from datetime import date

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import CtxDep
from api.schemas import (
    Day,
    DispenseCreated,
    DispenseRequest,
    DispenseWithheld,
    NoShowRequest,
    PatientBrief,
    RecordedBy,
    ReleaseRequest,
    RosterItem,
    RosterWindow,
    SlotRead,
)
from dispensing.catalogue import CATALOGUE
from dispensing.errors import InvalidInput
from dispensing.models import User
from dispensing.rules.breath import parse_promille
from dispensing.rules.cpr import mask_cpr
from dispensing.services import afterwards
from dispensing.services import dispense as svc
from dispensing.services.roster import RosterEntry, build_roster

router = APIRouter(tags=["window"])


def roster_item(e: RosterEntry, shown: dict[int, RosterWindow] | None = None) -> RosterItem:
    """One entry as the API shows it; `shown`: the windows already made for earlier entries (a site has
    a handful, ~400 entries share them)."""
    shown = {} if shown is None else shown
    windows = [shown.get(w.id) or shown.setdefault(w.id, RosterWindow(start=w.start, end=w.end)) for w in e.windows]
    product = CATALOGUE[e.order.drug].product(e.order.product)
    return RosterItem(
        slot_id=e.slot.id,
        date=e.slot.slot_date,
        patient=PatientBrief(id=e.patient.id, name=e.patient.name, cpr_masked=mask_cpr(e.patient.cpr)),
        prescription_id=e.order.id,
        drug=e.slot.drug,
        product_name=product.name if product else e.order.product,
        dose_mg=e.dose_mg,
        supervised=e.part.supervised if e.part else e.order.supervised,
        window=windows[0] if windows else None,
        windows=windows,
        status=e.slot.status.value,
        breathalyser_required=e.breathalyser_required,
        urine_sample_due=e.urine_sample_due,
        missed_consecutive=e.missed_consecutive,
        blocked_reason=e.blocked_reason,
        take_home_days=e.take_home_days,
        outside_window=e.outside_window,
        part=e.slot.part,
        part_time=e.part.at if e.part else None,
        sanctions=[s.step.value for s in e.sanctions],
        flags=list(e.flags),
        recorded_afterwards=e.recorded_afterwards,
    )


@router.get("/sites/{site_id}/roster", response_model=list[RosterItem])
def roster(site_id: int, ctx: CtxDep, date: Day | None = None):
    """Every dose due at the site on the date (default: today in the clinic's zone)."""
    shown: dict[int, RosterWindow] = {}
    return [roster_item(e, shown) for e in build_roster(ctx, site_id, date or ctx.today)]


@router.post(
    "/slots/{slot_id}/dispense",
    status_code=201,
    responses={200: {"model": DispenseWithheld, "description": "withheld: breath reading over threshold"}},
    response_model=DispenseCreated,
)
def dispense(slot_id: int, body: DispenseRequest, ctx: CtxDep):
    """Hand out the dose; 200 withheld when the breath reading is over the drug's threshold.

    With "given_at": a dose handed out from the paper sheet while the system was down, entered afterwards."""
    reading = None
    if body.breath_alcohol_promille is not None:
        try:
            reading = parse_promille(body.breath_alcohol_promille)
        except ValueError as exc:
            raise InvalidInput.of(exc) from exc
    kwargs = {
        "breath_promille": reading,
        "supervised": body.supervised,
        "take_home_days": body.take_home_days,
        "outside_window_reason": body.outside_window_reason,
    }
    if body.given_at is not None:
        result = afterwards.dispense_entered_afterwards(ctx, slot_id, given_at=body.given_at, **kwargs)
    else:
        result = svc.dispense(ctx, slot_id, **kwargs)
    if result.status == "withheld":
        return JSONResponse(DispenseWithheld(reason=result.reason).model_dump(), status_code=200)
    d = result.dispense
    return DispenseCreated(
        dispense_id=d.id,
        drug=d.drug,
        dose_mg=d.dose_mg,
        total_mg=d.total_mg,
        covers=[date.fromisoformat(x) for x in d.covers],
        label_url=f"/dispenses/{d.id}/label.pdf" if d.take_home_days else None,
        given_at=d.given_at,
        recorded_at=d.recorded_at,
        recorded_by=RecordedBy.model_validate(ctx.session.get(User, d.recorded_by_id)),
        recorded_afterwards=d.recorded_afterwards,
    )


@router.post("/slots/{slot_id}/no-show", response_model=SlotRead)
def no_show(slot_id: int, ctx: CtxDep, body: NoShowRequest | None = None):
    """The patient did not come; while their window that day is still ahead only with a reason.
    With "given_at", noted on the paper sheet and entered afterwards."""
    s = svc.record_no_show(ctx, slot_id, body.reason if body else None, given_at=body.given_at if body else None)
    return SlotRead(
        slot_id=s.id, date=s.slot_date, patient_id=s.patient_id, drug=s.drug, status=s.status.value, reason=s.reason
    )


@router.post("/patients/{patient_id}/missed-dose-release", status_code=201)
def release(patient_id: int, body: ReleaseRequest, ctx: CtxDep):
    """Doctor: the run of missed days is reviewed; the next dose may be given."""
    r = svc.release_block(ctx, patient_id, body.drug, body.reason)
    return {"id": r.id, "patient_id": patient_id, "drug": r.drug.value, "released_on": r.released_on.isoformat()}
