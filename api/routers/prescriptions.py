"""Doctor's orders and the drug catalogue."""

from fastapi import APIRouter

from api.deps import CtxDep
from api.schemas import (
    DiscontinueRequest,
    DosePartRead,
    DoseStepRead,
    DrugRead,
    PrescriptionCreate,
    PrescriptionRead,
    PrescriptionRevise,
    ProductRead,
    SignOverrideRead,
    SignRequest,
)
from dispensing.catalogue import CATALOGUE
from dispensing.models import Prescription, User
from dispensing.rules.breath import breath_required
from dispensing.rules.split import Part
from dispensing.rules.steps import Step, parse_steps
from dispensing.services import prescriptions as svc
from dispensing.services.conduct import current_agreement
from dispensing.services.context import Ctx
from dispensing.services.sign_checks import overrides_of

router = APIRouter(tags=["orders"])


NO_AGREEMENT = (
    "No cooperation agreement (samarbejdsaftale) on file for this patient: have it signed and "
    "record it (POST /patients/{id}/agreement)."
)


def order_read(ctx: Ctx, p: Prescription, warnings: list[str] | None = None) -> PrescriptionRead:
    product = CATALOGUE[p.drug].product(p.product)
    warnings = list(warnings or [])
    if p.drug.is_opioid and p.status.value in ("draft", "active") and current_agreement(ctx, p.patient_id) is None:
        warnings.append(NO_AGREEMENT)
    signer = ctx.session.get(User, p.signed_by_id) if p.signed_by_id else None
    return PrescriptionRead(
        id=p.id,
        patient_id=p.patient_id,
        drug=p.drug,
        product=p.product,
        product_name=product.name if product else p.product,
        dose_mg=p.dose_mg,
        dose_ml=p.dose_mg / product.mg_per_ml if product and product.mg_per_ml else None,
        weekdays=sorted(p.weekday_set),
        pickup_weekdays=sorted(p.pickup_weekday_set),
        take_home=p.pickup_weekday_set != p.weekday_set,
        supervised=p.supervised,
        site_id=p.site_id,
        start_date=p.start_date,
        end_date=p.end_date,
        indication=p.indication,
        override_reason=p.override_reason,
        pickup_change_reason=p.pickup_change_reason,
        version=p.version,
        supersedes_id=p.supersedes_id,
        revision_reason=p.revision_reason,
        status=p.status.value,
        created_at=p.created_at,
        signed_by=signer.full_name if signer else None,
        signed_at=p.signed_at,
        signature=p.signature,
        signature_valid=svc.signature_valid(ctx, p) if p.signed_at else None,
        superseded_on=p.superseded_on,
        discontinued_on=p.discontinued_on,
        discontinue_reason=p.discontinue_reason,
        sign_overrides=[
            SignOverrideRead(kind=o.kind.value, reason=o.reason, detail=o.detail)
            for o in (overrides_of(ctx, p.id) if p.signed_at else [])
        ],
        steps=[DoseStepRead(from_date=s.from_date, dose_mg=s.dose_mg) for s in parse_steps(p.dose_steps)]
        if p.dose_steps
        else [],
        doses=[DosePartRead(time=d.at, dose_mg=d.dose_mg, supervised=d.supervised) for d in p.parts],
        warnings=warnings,
    )


@router.get("/drugs", response_model=list[DrugRead])
def drugs(ctx: CtxDep):
    """The catalogue: drug codes, products and the units a dose is made of."""
    return [
        DrugRead(
            code=i.code,
            name=i.name,
            controlled=i.controlled,
            max_dose_mg=i.max_dose_mg,
            breathalyser_required=breath_required(i.code, ctx.policy),
            products=[ProductRead.model_validate(p) for p in i.products],
        )
        for i in CATALOGUE.values()
    ]


@router.post("/prescriptions", status_code=201, response_model=PrescriptionRead)
def create(body: PrescriptionCreate, ctx: CtxDep):
    terms = svc.OrderTerms(
        drug=body.drug,
        product=body.product,
        dose_mg=body.dose_mg,
        weekdays=tuple(body.weekdays),
        pickup_weekdays=tuple(body.pickup_weekdays) if body.pickup_weekdays is not None else None,
        supervised=body.supervised,
        site_id=body.site_id,
        start_date=body.start_date,
        end_date=body.end_date,
        indication=body.indication,
        override_reason=body.override_reason,
        steps=tuple(Step(s.from_date, s.dose_mg) for s in body.steps),
        parts=tuple(Part(d.time, d.dose_mg, d.supervised) for d in body.doses),
    )
    return order_read(ctx, svc.create_order(ctx, body.patient_id, terms))


@router.get("/prescriptions/drafts", response_model=list[PrescriptionRead])
def drafts(ctx: CtxDep):
    """Drafts waiting for a doctor's signature."""
    return [order_read(ctx, p) for p in svc.drafts_to_sign(ctx)]


@router.get("/prescriptions/{order_id}", response_model=PrescriptionRead)
def read(order_id: int, ctx: CtxDep):
    return order_read(ctx, svc.read_order(ctx, order_id))


@router.post("/prescriptions/{order_id}/sign", response_model=PrescriptionRead)
def sign(order_id: int, body: SignRequest, ctx: CtxDep):
    """Sign a draft by re-entering the password; only a doctor (opioids: with the prescribing right)."""
    order = svc.sign_order(
        ctx,
        order_id,
        body.password,
        window_override_reason=body.window_override_reason,
        opioid_overlap_reason=body.opioid_overlap_reason,
    )
    # A revision taking effect while bottles of the old version are out: say so to the doctor.
    warnings = (
        svc.doses_already_out(ctx, order.supersedes_id, order.start_date, "at the old terms")
        if order.supersedes_id
        else []
    )
    return order_read(ctx, order, warnings)


@router.post("/prescriptions/{order_id}/revise", status_code=201, response_model=PrescriptionRead)
def revise(order_id: int, body: PrescriptionRevise, ctx: CtxDep):
    changes = body.model_dump(exclude_unset=True, exclude={"effective_date", "reason"})
    if changes.get("steps"):
        changes["steps"] = [Step(s.from_date, s.dose_mg) for s in body.steps]
    if "doses" in changes:
        changes["parts"] = [Part(d.time, d.dose_mg, d.supervised) for d in body.doses or []]
        del changes["doses"]
    return order_read(ctx, svc.revise_order(ctx, order_id, changes, body.effective_date, body.reason))


@router.post("/prescriptions/{order_id}/discontinue", response_model=PrescriptionRead)
def discontinue(order_id: int, body: DiscontinueRequest, ctx: CtxDep):
    result = svc.discontinue_order(ctx, order_id, body.end_date, body.reason)
    return order_read(ctx, result.order, result.warnings)


@router.get("/patients/{patient_id}/prescriptions", response_model=list[PrescriptionRead])
def for_patient(patient_id: int, ctx: CtxDep):
    return [order_read(ctx, p) for p in svc.list_orders(ctx, patient_id)]
