"""Pickup labels for take-home and site doses: what each label says, its signed QR, the PDFs."""

from datetime import date
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from dispensing.catalogue import CATALOGUE
from dispensing.enums import Drug, Role
from dispensing.errors import Conflict, Forbidden, InvalidInput, NotFound
from dispensing.labels import LabelClaims, LabelData, available_templates, render_labels, sign_label, verify_label
from dispensing.models import Dispense, DispenseStatus, Patient, Prescription, Site, User
from dispensing.rules.cpr import mask_cpr
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.records import get_or_404, referenced

STAFF = (Role.NURSE, Role.DOCTOR, Role.ADMIN)
# A pack of tablets covers all its days; controlled oral doses go one bottle per day so every
# mg is accounted for at handout.
ONE_PACK = {Drug.ACAMPROSATE}


def labelled_days(d: Dispense, site: Site) -> list[date]:
    """Days that leave the clinic: the take-home days, or every day when prepared for a site."""
    days = [date.fromisoformat(x) for x in d.covers]
    return days if site.kind != "clinic" else days[1:]


def _label_key(ctx: Ctx) -> Ed25519PrivateKey:
    """The key that signs and checks the labels' QR tokens; a context without one can neither print nor check labels."""
    if ctx.label_key is None:
        raise RuntimeError("no label signing key configured")
    return ctx.label_key


def build_labels(ctx: Ctx, d: Dispense) -> list[LabelData]:
    """One label per bottle (per pack for tablets) of a dispense, each with its signed token."""
    key = _label_key(ctx)
    site = referenced(ctx.session, Site, d.site_id)
    days = labelled_days(d, site)
    if not days:
        return []
    order = referenced(ctx.session, Prescription, d.prescription_id)
    patient = referenced(ctx.session, Patient, d.patient_id)
    info = CATALOGUE[d.drug]
    product = info.product(order.product)
    assert product is not None, f"order {order.id}: product {order.product} was checked against the catalogue"
    groups = [tuple(days)] if d.drug in ONE_PACK else [(day,) for day in days]
    prescriber = ctx.session.get(User, order.signed_by_id)
    nurse = referenced(ctx.session, User, d.dispensed_by_id)
    per_ml = product.mg_per_ml
    labels = []
    for n, group in enumerate(groups, start=1):
        # Rule 18: each day's label carries that day's step; a part of a split dose, the part's dose.
        dose = d.dose_mg if order.parts else order.dose_on(group[0])
        total = dose * len(group) if order.parts else sum((order.dose_on(day) for day in group), Decimal(0))
        claims = LabelClaims(
            dispense_id=d.id,
            copy_no=n,
            drug=d.drug.value,
            dose_mg=dose,
            first_day=group[0],
            last_day=group[-1],
            site_id=d.site_id,
        )
        labels.append(
            LabelData(
                dispense_id=d.id,
                dispense_number=d.number,
                copy_no=n,
                copies=len(groups),
                patient_name=patient.name,
                patient_cpr=f"{patient.cpr[:6]}-{patient.cpr[6:]}",
                drug=d.drug.value,
                drug_name=info.name,
                product=product.name,
                strength=product.strength,
                form=product.form,
                dose_mg=dose,
                dose_ml=dose / per_ml if per_ml else None,
                covers=group,
                total_mg=total,
                total_ml=total / per_ml if per_ml else None,
                site_name=site.name,
                prescriber=prescriber.full_name if prescriber else "",
                dispensed_by=nurse.full_name,
                dispensed_on=d.dispensed_at.astimezone(ctx.tz).date(),
                token=sign_label(claims, key),
                recorded_afterwards=d.recorded_afterwards,
            )
        )
    return labels


def _template(name: str) -> str:
    if name not in available_templates():
        raise InvalidInput("label.unknown_template", name=name, templates=", ".join(available_templates()))
    return name


def dispense_label_pdf(ctx: Ctx, dispense_id: int, template: str = "roll_89x36") -> bytes:
    """The labels of one dispense as a PDF (nurse, doctor, admin)."""
    ctx.require(*STAFF)
    d = get_or_404(ctx.session, Dispense, dispense_id)
    if d.status == DispenseStatus.VOID:
        raise Conflict("label.void", number=d.number)
    labels = build_labels(ctx, d)
    if not labels:
        raise Conflict("label.no_take_home", number=d.number)
    audit.record(
        ctx,
        "label.print",
        "dispense",
        d.id,
        patient_id=d.patient_id,
        detail={"labels": len(labels), "template": template},
    )
    return render_labels(labels, _template(template))


def site_dispenses(ctx: Ctx, site_id: int, day: date) -> list[Dispense]:
    """Everything prepared for a site for a day (site staff see only their own site)."""
    user = ctx.require(*STAFF, Role.SITE_STAFF)
    if user.role == Role.SITE_STAFF and user.site_id != site_id:
        raise Forbidden("site.other_site")
    get_or_404(ctx.session, Site, site_id)
    items = list(
        ctx.session.execute(
            select(Dispense)
            .where(Dispense.site_id == site_id, Dispense.first_day == day, Dispense.status != DispenseStatus.VOID)
            .order_by(Dispense.id)
        ).scalars()
    )
    audit.record_list(ctx, "site.deliveries", (d.patient_id for d in items))
    return items


def site_labels_pdf(ctx: Ctx, site_id: int, day: date, template: str = "a4_sheet") -> bytes:
    """Every label prepared for a site and date, in one PDF."""
    items = [d for d in site_dispenses(ctx, site_id, day) if d.status == DispenseStatus.PREPARED]
    # The batch's orders, patients and staff in one query each, held here so that build_labels finds them
    # in the session (its identity map keeps no strong references): not four queries per dispense.
    orders = list(
        ctx.session.execute(
            select(Prescription).where(Prescription.id.in_({d.prescription_id for d in items}))
        ).scalars()
    )
    loaded = [
        *orders,
        ctx.session.get(Site, site_id),
        *ctx.session.execute(select(Patient).where(Patient.id.in_({d.patient_id for d in items}))).scalars(),
        *ctx.session.execute(
            select(User).where(User.id.in_({o.signed_by_id for o in orders} | {d.dispensed_by_id for d in items}))
        ).scalars(),
    ]
    labels = [label for d in items for label in build_labels(ctx, d)]
    del loaded
    if not labels:
        raise NotFound("label.nothing_prepared", site_id=site_id, day=day)
    audit.record(
        ctx,
        "label.print_site",
        "site",
        site_id,
        detail={"date": day, "dispense_ids": [d.id for d in items], "labels": len(labels)},
    )
    return render_labels(labels, _template(template))


def verify(ctx: Ctx, token: str) -> dict[str, Any]:
    """Is this label genuine, what does it cover, and what is its dispense's status now?"""
    user = ctx.require(*STAFF, Role.SITE_STAFF)
    claims = verify_label(token, _label_key(ctx).public_key()) if token else None
    d = ctx.session.get(Dispense, claims.dispense_id) if claims else None
    if claims is None or d is None:
        audit.record(ctx, "label.verify_failed", "label", detail={"token_prefix": (token or "")[:12]})
        return {"valid": False}
    if user.role == Role.SITE_STAFF and user.site_id not in (d.site_id, claims.site_id):
        # Another site's label: its staff see neither the patient nor the dose (nothing to hand out here).
        raise Forbidden("label.other_site")
    patient = referenced(ctx.session, Patient, d.patient_id)
    site = ctx.session.get(Site, claims.site_id)  # the site named in the token
    audit.record(ctx, "label.verify", "dispense", d.id, patient_id=d.patient_id, detail={"copy_no": claims.copy_no})
    covers = [
        x
        for x in labelled_days(d, referenced(ctx.session, Site, d.site_id))
        if claims.first_day <= x <= claims.last_day
    ]
    return {
        "valid": True,
        "dispense_id": d.id,
        "dispense_number": d.number,
        "copy_no": claims.copy_no,
        "patient_name": patient.name,
        "cpr_masked": mask_cpr(patient.cpr),
        "drug": claims.drug,
        "dose_mg": claims.dose_mg,
        "covers": covers,
        "site": {"id": site.id, "name": site.name} if site else None,
        "status": d.status.value,
    }
