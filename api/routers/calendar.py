"""Closed days of sites, the closure plan and the doctor's moves (rule 17)."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CtxDep
from api.schemas import (
    ClosedDayRead,
    ClosureIn,
    ClosureMoveIn,
    ClosureMoveRead,
    ClosurePlanItem,
    HolidayRule,
    PatientBrief,
)
from dispensing.rules.cpr import mask_cpr
from dispensing.services import calendar as svc
from dispensing.services.context import Ctx

router = APIRouter(tags=["calendar"])

From = Annotated[date | None, Query(alias="from", description="first day (default today)")]
To = Annotated[date | None, Query(alias="to", description="last day (default 31 days after the first)")]


def _span(ctx: Ctx, first: date | None, last: date | None) -> tuple[date, date]:
    first = first or ctx.today
    return first, last or first + timedelta(days=31)


def plan_item(i: svc.PlanItem) -> ClosurePlanItem:
    return ClosurePlanItem(
        date=i.day,
        closed_reason=i.closed_reason,
        site_id=i.site.id,
        patient=PatientBrief(id=i.patient.id, name=i.patient.name, cpr_masked=mask_cpr(i.patient.cpr)),
        prescription_id=i.order.id,
        drug=i.order.drug,
        dose_mg=i.dose_mg,
        status=i.status,
        pickup_date=i.cover.pickup_day,
        moved_to_site_id=i.moved_to.id if i.moved_to else None,
        unresolved_reason=i.cover.why.value if i.cover.why else None,
        done=i.done,
    )


@router.get("/sites/{site_id}/closures", response_model=list[ClosedDayRead])
def closures(site_id: int, ctx: CtxDep, first: From = None, last: To = None):
    """The site's closed days: Danish public holidays (unless the site keeps them open) and added days."""
    first, last = _span(ctx, first, last)
    return [
        ClosedDayRead(date=c.day, reason=c.reason, source=c.source)
        for c in svc.list_closures(ctx, site_id, first, last)
    ]


@router.put("/sites/{site_id}/closures", response_model=list[ClosedDayRead])
def set_closures(site_id: int, body: list[ClosureIn], ctx: CtxDep):
    """Replace the days the admin closes the site from today on (admin)."""
    days = svc.set_closures(ctx, site_id, [(c.date, c.reason) for c in body])
    return [ClosedDayRead(date=c.day, reason=c.reason, source=c.source) for c in days]


@router.put("/sites/{site_id}/holiday-rule", response_model=HolidayRule)
def holiday_rule(site_id: int, body: HolidayRule, ctx: CtxDep):
    """Close the site on Danish public holidays (default) or keep it open on them (admin)."""
    site = svc.set_holiday_rule(ctx, site_id, body.danish_public_holidays)
    return HolidayRule(danish_public_holidays=site.danish_public_holidays)


@router.get("/sites/{site_id}/closure-plan", response_model=list[ClosurePlanItem])
def closure_plan(site_id: int, ctx: CtxDep, first: From = None, last: To = None):
    """Each due dose on one of the site's closed days and how it is covered."""
    first, last = _span(ctx, first, last)
    return [plan_item(i) for i in svc.closure_plan(ctx, site_id, first, last)]


@router.get("/closure-plan/unresolved", response_model=list[ClosurePlanItem])
def unresolved(ctx: CtxDep):
    """The doctor's list: closed days' doses without a cover, over the policy's days ahead, at every site."""
    return [plan_item(i) for i in svc.unresolved_ahead(ctx)]


@router.post("/closure-plan/moves", status_code=201, response_model=ClosureMoveRead)
def move(body: ClosureMoveIn, ctx: CtxDep):
    """The doctor moves a closed day's dose to an open clinic for that day (not a sanction)."""
    m = svc.move_dose(ctx, body.prescription_id, body.date, body.site_id, body.reason)
    return ClosureMoveRead(
        id=m.id,
        patient_id=m.patient_id,
        drug=m.drug,
        date=m.day,
        from_site_id=m.from_site_id,
        to_site_id=m.to_site_id,
        reason=m.reason,
    )
