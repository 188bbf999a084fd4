"""Checks at signing that the doctor may override with a reason, kept with the order (DOMAIN.md rules 14, 15):
due weekdays the patient comes (pickup days) without a window for the drug at the site, and two opioids in
force on the same day."""

from typing import Any

from sqlalchemy import select

from dispensing.catalogue import CATALOGUE
from dispensing.errors import Conflict, InvalidInput
from dispensing.messages import Weekday
from dispensing.models import OrderStatus, Prescription, SignOverride, SignOverrideKind, User
from dispensing.rules.windows import weekdays_without_window
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.sites import get_site


def _reason(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None


def other_opioid_in_force(ctx: Ctx, order: Prescription) -> Prescription | None:
    """A signed order of another opioid for the patient in force on a day this order is in force."""
    if not order.drug.is_opioid:
        return None
    stmt = select(Prescription).where(
        Prescription.patient_id == order.patient_id,
        Prescription.status == OrderStatus.ACTIVE,
        Prescription.drug != order.drug,
    )
    for other in ctx.session.execute(stmt).scalars():
        last = other.last_day
        if (
            other.drug.is_opioid
            and (last is None or last >= order.start_date)
            and (order.end_date is None or other.start_date <= order.end_date)
        ):
            return other
    return None


def check_before_signing(
    ctx: Ctx,
    order: Prescription,
    doctor: User,
    *,
    window_override_reason: str | None,
    opioid_overlap_reason: str | None,
) -> list[SignOverride]:
    """Refuse the signature, or record the doctor's reason for signing despite the flag."""
    kept: list[SignOverride] = []
    other = other_opioid_in_force(ctx, order)
    if other is not None:
        why = _reason(opioid_overlap_reason)
        if why is None:
            raise Conflict(
                "order.opioid_overlap",
                drug=CATALOGUE[order.drug].name,
                other_drug=CATALOGUE[other.drug].name,
                other_order_id=other.id,
                other_start=other.start_date,
            )
        kept.append(_keep(ctx, order, doctor, SignOverrideKind.OPIOID_OVERLAP, why, {"other_order_id": other.id}))
    site = get_site(ctx, order.site_id)
    # The days the patient comes to the site: a take-home day between pickups needs no window.
    missing = weekdays_without_window(site.windows, order.drug, order.pickup_weekday_set)
    if missing:
        why = _reason(window_override_reason)
        if why is None:
            raise InvalidInput(
                "order.no_window",
                drug=CATALOGUE[order.drug].name,
                site=site.name,
                weekdays=[Weekday(d) for d in missing],
            )
        kept.append(_keep(ctx, order, doctor, SignOverrideKind.NO_WINDOW, why, {"weekdays": missing}))
    return kept


def _keep(
    ctx: Ctx, order: Prescription, doctor: User, kind: SignOverrideKind, reason: str, detail: dict[str, Any]
) -> SignOverride:
    item = SignOverride(
        prescription_id=order.id,
        kind=kind,
        reason=reason,
        detail=detail,
        decided_by_id=doctor.id,
        decided_at=ctx.now,
    )
    ctx.session.add(item)
    audit.record(
        ctx,
        "prescription.sign_override",
        "prescription",
        order.id,
        patient_id=order.patient_id,
        detail={"kind": kind.value, "reason": reason, **detail},
    )
    return item


def overrides_of(ctx: Ctx, order_id: int) -> list[SignOverride]:
    """The reasons the doctor gave to sign this order despite a flag."""
    return list(
        ctx.session.execute(
            select(SignOverride).where(SignOverride.prescription_id == order_id).order_by(SignOverride.id)
        ).scalars()
    )
