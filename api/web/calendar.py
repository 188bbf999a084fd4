"""Closed days in the browser (rule 17): the admin's closed days and holiday rule, the closure plan,
and the doctor's moves of a closed day's dose to an open clinic."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request

from api.web import i18n
from api.web.common import Draw, PostCtx, WebCtx, attempt, page, parse_date, redirect, refusal, require
from dispensing.enums import Role, SiteKind
from dispensing.errors import DispensingError, InvalidInput
from dispensing.rules.cpr import mask_cpr
from dispensing.services import calendar
from dispensing.services.context import Ctx
from dispensing.services.sites import list_sites

router = APIRouter(prefix="/ui", include_in_schema=False)
ROLES = (Role.NURSE, Role.DOCTOR, Role.ADMIN)


def _page(
    request: Request,
    ctx: Ctx,
    site_id: int | None,
    first_text: str | None,
    last_text: str | None,
    *,
    error: DispensingError | None = None,
    status: int = 200,
):
    require(ctx, *ROLES)
    sites = list_sites(ctx)
    site = next((s for s in sites if s.id == site_id), None) or next(iter(sites), None)
    first = parse_date(first_text, ctx.today)
    last = parse_date(last_text, first + timedelta(days=31))
    closed, plan = [], []
    if site is not None:
        closed = calendar.list_closures(ctx, site.id, first, last)
        plan = calendar.closure_plan(ctx, site.id, first, last)
    return page(
        request,
        "calendar.html",
        ctx,
        status=status,
        sites=sites,
        site=site,
        first=first,
        last=last,
        closed=closed,
        added="\n".join(
            f"{c.day.isoformat()} {c.reason}" for c in closed if c.source == "added" and c.day >= ctx.today
        ),
        plan=plan,
        clinics=[s for s in sites if s.kind == SiteKind.CLINIC and (site is None or s.id != site.id)],
        mask=mask_cpr,
        error=refusal(error),
        today=ctx.today,
    )


def _page_for(request: Request, site_id: int, first_text: str | None = None) -> Draw:
    """The calendar page with a refusal on it."""
    return lambda ctx, error: _page(request, ctx, site_id, first_text, None, error=error, status=error.status_code)


@router.get("/calendar")
def calendar_page(
    request: Request, ctx: WebCtx, site_id: int | None = None, first: str | None = None, last: str | None = None
):
    """A site's closed days and the plan for the doses due on them."""
    return _page(request, ctx, site_id, first, last)


def _closures(text: str) -> list[tuple[date, str]]:
    """One closed day per line: "YYYY-MM-DD reason"."""
    days = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        day, _, reason = line.strip().partition(" ")
        try:
            days.append((date.fromisoformat(day), reason.strip()))
        except ValueError:
            raise InvalidInput("closure.line_unreadable", line=line.strip()) from None
    return days


@router.post("/calendar/{site_id}/closures")
def set_closures(request: Request, ctx: PostCtx, site_id: int, days: Annotated[str, Form()] = ""):
    attempt(ctx, lambda c: calendar.set_closures(c, site_id, _closures(days)), on_refusal=_page_for(request, site_id))
    return redirect(request, f"/ui/calendar?site_id={site_id}", i18n.gettext("The closed days were saved."))


@router.post("/calendar/{site_id}/holiday-rule")
def holiday_rule(request: Request, ctx: PostCtx, site_id: int, closed: Annotated[str | None, Form()] = None):
    attempt(ctx, calendar.set_holiday_rule, site_id, closed is not None, on_refusal=_page_for(request, site_id))
    return redirect(request, f"/ui/calendar?site_id={site_id}", i18n.gettext("The holiday rule was saved."))


@router.post("/calendar/moves")
def move(
    request: Request,
    ctx: PostCtx,
    prescription_id: Annotated[int, Form()],
    day: Annotated[str, Form()],
    site_id: Annotated[int, Form()],
    to_site_id: Annotated[int, Form()],
    reason: Annotated[str, Form()] = "",
):
    moved_on = parse_date(day, ctx.today)
    attempt(
        ctx,
        calendar.move_dose,
        prescription_id,
        moved_on,
        to_site_id,
        reason,
        on_refusal=_page_for(request, site_id, day),
    )
    back = f"/ui/calendar?site_id={site_id}&first={moved_on.isoformat()}"
    return redirect(request, back, i18n.gettext("The dose was moved to the open clinic for that day."))
