"""Pickup-site staff (pharmacy, police station, home nursing): today's doses, handout and return."""

from typing import Annotated

from fastapi import APIRouter, Form, Request

from api.web import i18n
from api.web.common import Draw, PageRefusal, PostCtx, WebCtx, attempt, page, parse_date, redirect, refusal
from dispensing.catalogue import CATALOGUE
from dispensing.enums import Role
from dispensing.errors import DispensingError, InvalidInput
from dispensing.models import Patient
from dispensing.rules.cpr import mask_cpr
from dispensing.services import custody, labels
from dispensing.services.context import Ctx
from dispensing.services.sites import get_site, list_sites

router = APIRouter(prefix="/ui", include_in_schema=False)


def _site_page(
    request: Request,
    ctx: Ctx,
    site_id: int | None,
    day_text: str | None,
    *,
    error: DispensingError | None = None,
    status: int = 200,
    token: str = "",
):
    user = ctx.require(Role.SITE_STAFF, Role.NURSE, Role.DOCTOR, Role.ADMIN)
    label = None
    if token.strip() and error is None:
        label, error = _check_label(ctx, token.strip())
        status = error.status_code if error else status
    if user.role == Role.SITE_STAFF:
        site_id = site_id or user.site_id  # another site's id is refused by labels.site_dispenses
    if site_id is None:
        raise InvalidInput("site.choose")
    day = parse_date(day_text, ctx.today)
    items = labels.site_dispenses(ctx, site_id, day)
    site = get_site(ctx, site_id)
    people = {d.patient_id: ctx.session.get(Patient, d.patient_id) for d in items}
    other_sites = [s for s in list_sites(ctx) if s.kind != "clinic"] if user.role != Role.SITE_STAFF else []
    return page(
        request,
        "site.html",
        ctx,
        status=status,
        site=site,
        day=day,
        items=items,
        people=people,
        mask=mask_cpr,
        error=refusal(error),
        catalogue=CATALOGUE,
        today=ctx.today,
        other_sites=other_sites,
        label=label,
    )


def _check_label(ctx: Ctx, token: str) -> tuple[dict | None, DispensingError | None]:
    """The label's QR (typed by a USB scanner): genuine and this site's, or a refusal to show.
    Nothing is written but the audit entry of the check, so the page's transaction keeps it."""
    try:
        checked = labels.verify(ctx, token)
    except DispensingError as exc:
        return None, exc
    if not checked["valid"]:
        return None, InvalidInput("label.token_invalid")
    return checked, None


def _site_page_for(request: Request, site_id: int | None, day_text: str | None) -> Draw:
    """The site's page with a refusal on it."""
    return lambda ctx, error: _site_page(request, ctx, site_id, day_text, error=error, status=error.status_code)


@router.get("/site")
def site_list(request: Request, ctx: WebCtx, site_id: int | None = None, date: str | None = None, token: str = ""):
    """The site's doses for the day (site staff: only their own site); `token` is a label's QR to check."""
    return _site_page(request, ctx, site_id, date, token=token)


@router.post("/site/dispenses/{dispense_id}/handout")
def handout(
    request: Request,
    ctx: PostCtx,
    dispense_id: int,
    site_id: Annotated[int, Form()],
    date: Annotated[str, Form()] = "",
    identity_checked: Annotated[str | None, Form()] = None,
):
    """Hand out a prepared dose: only after the staff ticked that they checked the patient's identity."""
    if identity_checked is None:
        raise PageRefusal(InvalidInput("custody.identity_unchecked"), _site_page_for(request, site_id, date))
    attempt(ctx, custody.hand_out, dispense_id, on_refusal=_site_page_for(request, site_id, date))
    return redirect(request, f"/ui/site?site_id={site_id}&date={date}", i18n.gettext("Handed out to the patient."))


@router.post("/site/dispenses/{dispense_id}/return")
def return_(
    request: Request,
    ctx: PostCtx,
    dispense_id: int,
    site_id: Annotated[int, Form()],
    date: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
):
    attempt(ctx, custody.return_to_clinic, dispense_id, reason, on_refusal=_site_page_for(request, site_id, date))
    return redirect(request, f"/ui/site?site_id={site_id}&date={date}", i18n.gettext("Returned to the clinic."))
