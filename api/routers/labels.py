"""Labels, doses prepared for pickup sites, and their chain of custody."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.deps import CtxDep
from api.schemas import Day, DispenseRead, LabelCheck, PatientBrief, PrepareRequest, RecordedBy
from api.schemas.stock import ReturnRequest, VoidRequest
from dispensing.labels import public_key_pem
from dispensing.models import Dispense, DispenseStatus, Patient, Site, User
from dispensing.rules.cpr import mask_cpr
from dispensing.services import custody, labels, stock
from dispensing.services.context import Ctx

router = APIRouter(tags=["labels and pickup sites"])
Template = Annotated[str | None, Query(description="roll_89x36 (label printer) or a4_sheet")]


def dispense_read(ctx: Ctx, d: Dispense) -> DispenseRead:
    p = ctx.session.get(Patient, d.patient_id)
    site = ctx.session.get(Site, d.site_id)
    has_labels = d.status != DispenseStatus.VOID and bool(labels.labelled_days(d, site))
    return DispenseRead(
        id=d.id,
        number=d.number,
        slot_id=d.slot_id,
        patient=PatientBrief(id=p.id, name=p.name, cpr_masked=mask_cpr(p.cpr)),
        prescription_id=d.prescription_id,
        site_id=d.site_id,
        drug=d.drug,
        dose_mg=d.dose_mg,
        total_mg=d.total_mg,
        supervised=d.supervised,
        take_home_days=d.take_home_days,
        covers=[date.fromisoformat(x) for x in d.covers],
        status=d.status.value,
        dispensed_by_id=d.dispensed_by_id,
        dispensed_at=d.dispensed_at,
        given_at=d.given_at,
        recorded_at=d.recorded_at,
        recorded_by=RecordedBy.model_validate(ctx.session.get(User, d.recorded_by_id)),
        recorded_afterwards=d.recorded_afterwards,
        handed_out_at=d.handed_out_at,
        returned_at=d.returned_at,
        return_reason=d.return_reason,
        voided_at=d.voided_at,
        void_reason=d.void_reason,
        void_witness_id=d.void_witness_id,
        outside_window_reason=d.outside_window_reason,
        label_url=f"/dispenses/{d.id}/label.pdf" if has_labels else None,
    )


def pdf(content: bytes, name: str) -> Response:
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@router.post("/slots/{slot_id}/prepare", status_code=201, response_model=DispenseRead)
def prepare(slot_id: int, body: PrepareRequest, ctx: CtxDep):
    """Nurse: prepare a pickup site's dose (and take-home days) at the clinic; print its labels next."""
    return dispense_read(ctx, custody.prepare_for_site(ctx, slot_id, take_home_days=body.take_home_days))


@router.get("/dispenses/{dispense_id}", response_model=DispenseRead)
def read(dispense_id: int, ctx: CtxDep):
    return dispense_read(ctx, custody.get_dispense(ctx, dispense_id))


@router.get("/dispenses/{dispense_id}/label.pdf", response_class=Response)
def label_pdf(dispense_id: int, ctx: CtxDep, template: Template = None):
    """One label per take-home bottle or pack, each with a signed QR code."""
    return pdf(labels.dispense_label_pdf(ctx, dispense_id, template or "roll_89x36"), f"label-{dispense_id}.pdf")


@router.post("/dispenses/{dispense_id}/void", response_model=DispenseRead)
def void(dispense_id: int, body: VoidRequest, ctx: CtxDep):
    """Spilt, broken or wrong: the dispense and its labels become void; unused days are due again
    (controlled drugs: the doses not taken go back into stock with `back_to_stock`, else to waste).
    A dose already handed over is voided before a witness who re-enters their password."""
    witness = stock.Witness(body.witness.username, body.witness.password) if body.witness else None
    return dispense_read(
        ctx, custody.void_dispense(ctx, dispense_id, body.reason, back_to_stock=body.back_to_stock, witness=witness)
    )


@router.post("/dispenses/{dispense_id}/handout", response_model=DispenseRead)
def handout(dispense_id: int, ctx: CtxDep):
    """Site staff: the patient collected it."""
    return dispense_read(ctx, custody.hand_out(ctx, dispense_id))


@router.post("/dispenses/{dispense_id}/return", response_model=DispenseRead)
def return_(dispense_id: int, body: ReturnRequest, ctx: CtxDep):
    """Site staff: not collected; it goes back to the clinic."""
    return dispense_read(ctx, custody.return_to_clinic(ctx, dispense_id, body.reason, opened=body.opened))


@router.get("/sites/{site_id}/deliveries", response_model=list[DispenseRead])
def deliveries(site_id: int, ctx: CtxDep, date: Day | None = None):
    """What is prepared for the site for a day (site staff: their own site only)."""
    return [dispense_read(ctx, d) for d in labels.site_dispenses(ctx, site_id, date or ctx.today)]


@router.get("/sites/{site_id}/labels.pdf", response_class=Response)
def site_labels(site_id: int, ctx: CtxDep, date: Day | None = None, template: Template = None):
    """Every label prepared for the site and date."""
    day = date or ctx.today
    return pdf(labels.site_labels_pdf(ctx, site_id, day, template or "a4_sheet"), f"labels-{site_id}-{day}.pdf")


@router.get("/labels/verify", response_model=LabelCheck)
def verify(token: str, ctx: CtxDep):
    """Is the label genuine, what does it cover, and is its dispense still valid (not void)?"""
    return LabelCheck(**labels.verify(ctx, token))


@router.get("/labels/public-key", response_class=PlainTextResponse)
def public_key(request: Request):
    """The Ed25519 public key (PEM): pickup sites verify label QR codes offline with it."""
    return public_key_pem(request.app.state.label_key)
