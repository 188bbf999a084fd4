"""The site's dispensing windows at the window itself (DOMAIN.md rule 14): refuse a dose outside every
window for its drug unless the nurse records why; list those doses for the doctor."""

from datetime import date, datetime

from sqlalchemy import select

from dispensing.catalogue import CATALOGUE
from dispensing.enums import Role
from dispensing.errors import Conflict
from dispensing.models import Dispense, Site, Slot
from dispensing.rules.windows import is_open, next_opening, window_still_ahead
from dispensing.services import audit
from dispensing.services.context import Ctx


def local_now(ctx: Ctx) -> datetime:
    """The clinic's wall clock (naive), which the weekly windows are written in."""
    return ctx.now.astimezone(ctx.tz).replace(tzinfo=None)


def require_window_or_reason(ctx: Ctx, slot: Slot, site: Site, reason: str | None) -> str | None:
    """The nurse's reason when the dose is handed out outside every window for its drug (None inside one);
    refused (409, naming the next window) without a reason."""
    now = local_now(ctx)
    if is_open(site.windows, slot.drug, now):
        return None
    if reason and reason.strip():
        return reason.strip()
    nxt = next_opening(site.windows, slot.drug, now)
    if nxt is None:
        raise Conflict("dispense.no_window_for_drug", drug=CATALOGUE[slot.drug].name, site=site.name)
    raise Conflict(
        "dispense.outside_window",
        drug=CATALOGUE[slot.drug].name,
        next_day=nxt.day,
        next_start=f"{nxt.start:%H:%M}",
        next_end=f"{nxt.end:%H:%M}",
    )


def outside_window_now(ctx: Ctx, site: Site, slot: Slot) -> bool:
    """The roster's badge: a due dose of today whose drug has no window open at this minute."""
    return slot.slot_date == ctx.today and not is_open(site.windows, slot.drug, local_now(ctx))


def no_show_needs_reason(ctx: Ctx, site: Site, slot: Slot) -> bool:
    """True while the patient's last window for the drug that day has not ended."""
    return window_still_ahead(site.windows, slot.drug, slot.slot_date, local_now(ctx))


def outside_window_dispenses(ctx: Ctx, since: date, until: date) -> list[Dispense]:
    """Doses handed out outside every window for their drug, newest first (the doctor's desk)."""
    ctx.require(Role.DOCTOR, Role.ADMIN)
    items = list(
        ctx.session.execute(
            select(Dispense)
            .where(Dispense.outside_window_reason.is_not(None), Dispense.first_day.between(since, until))
            .order_by(Dispense.dispensed_at.desc())
        ).scalars()
    )
    audit.record_list(ctx, "dispense.outside_window_list", (d.patient_id for d in items))
    return items
