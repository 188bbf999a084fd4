"""The contingency sheet of a site and day: the window's own roster, printed for when the system is down.

Every line comes from the roster (services/roster.build_roster): the same orders in force, sanctions,
take-home spans, missed-day counts and blocks, and the urine sample only when the rule lets the window
see it (on the day itself). Nothing here decides who gets what; it only words it in Danish for paper.
"""

from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal

from dispensing.catalogue import CATALOGUE
from dispensing.enums import Drug, Role
from dispensing.labels.contingency import Sheet, SheetLine, render_contingency_sheet
from dispensing.models import SlotStatus
from dispensing.rules.cpr import mask_cpr
from dispensing.services import audit
from dispensing.services.attendance import MissedState, missed_states
from dispensing.services.context import Ctx
from dispensing.services.dispense import needs_supervision
from dispensing.services.roster import RosterEntry, build_roster, unusable_order_reason
from dispensing.services.sites import get_site

WEEKDAYS = ("man", "tir", "ons", "tor", "fre", "lør", "søn")
NO_WINDOW = "uden fast udleveringstid"
# What a line handled before the sheet was printed says instead of a handout to write in.
HANDLED = {
    SlotStatus.DISPENSED: "Allerede udleveret i dag.",
    SlotStatus.COVERED: "Har fået dagens dosis med hjem: udleveres ikke.",
    SlotStatus.PREPARED: "Klargjort til udleveringsstedet.",
    SlotStatus.WITHHELD: "Tilbageholdt i dag (promille): kun efter lægens genåbning.",
    SlotStatus.MISSED: "Registreret som udeblevet.",
}


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f").replace(".", ",")


def _dose(entry: RosterEntry) -> str:
    """The slot's own dose: the schedule's step of the day, or the part of a split dose (rules 18)."""
    order, mg = entry.order, entry.dose_mg
    product = CATALOGUE[order.drug].product(order.product)
    text = f"{_number(mg)} mg"
    if product is not None and product.mg_per_ml:
        text += f" ({_number(mg / product.mg_per_ml)} ml)"
    return text


def _handout(entry: RosterEntry) -> str:
    """Supervised or not, as the window demands it (needs_supervision), and the take-home days."""
    if entry.plan is not None:
        supervised = needs_supervision(entry.order, entry.slot, entry.plan)
    else:
        supervised = entry.part.supervised if entry.part else entry.order.supervised
    text = "Overvåget indtagelse" if supervised else "Uden overvågning"
    if entry.part is not None:
        text = f"Delt dosis, del {entry.slot.part + 1} af {len(entry.order.parts)}: {text.lower()}"
    days = entry.take_home_dates
    if days:
        listed = ", ".join(f"{WEEKDAYS[d.weekday()]} {d.day}/{d.month}" for d in days)
        text += f" + med hjem {len(days)} {'dag' if len(days) == 1 else 'dage'}: {listed}"
    return text


def _not_to_give(ctx: Ctx, entry: RosterEntry, missed: int, blocked: bool) -> str | None:
    """The blocked reason in the nurse's words, from the same rules the window applies."""
    if unusable_order_reason(ctx, entry.order, entry.slot.slot_date):
        return "ordinationen er ikke gyldig denne dag. Kontakt lægen."
    if not blocked:
        return None
    policy, n = ctx.policy, missed
    parts = [f"{n} udeblevne dage i træk: blokeret, indtil lægen har vurderet patienten"]
    if n >= policy.missed_days_restart_limit and entry.order.drug is Drug.METHADONE:
        parts.append(f"genstart med højst {_number(policy.methadone_restart_max_mg)} mg")
    if n >= policy.missed_days_new_start:
        parts.append("behandles som nyopstart")
    return "; ".join(parts) + "."


def _line(ctx: Ctx, entry: RosterEntry, ahead: MissedState | None) -> SheetLine:
    """One line; `ahead` is the missed-day state worked out as of the sheet's own morning (a future day)."""
    order = entry.order
    info = CATALOGUE[order.drug]
    product = info.product(order.product)
    due = entry.slot.status == SlotStatus.DUE
    missed = ahead.missed if ahead else entry.missed_consecutive
    blocked = bool(ahead.blocked_reason) if ahead else bool(entry.blocked_reason)
    return SheetLine(
        patient_name=entry.patient.name,
        cpr_masked=mask_cpr(entry.patient.cpr),
        drug_name=info.name,
        product=product.name if product else order.product,
        dose=_dose(entry),
        handout=_handout(entry),
        breath_required=entry.breathalyser_required,
        missed_consecutive=missed,
        urine_due=entry.urine_sample_due,
        not_to_give=_not_to_give(ctx, entry, missed, blocked) if due else None,
        note=None if due else HANDLED.get(entry.slot.status),
    )


def contingency_sheet(ctx: Ctx, site_id: int, day: date) -> Sheet:
    """What the sheet of a site and day shows, per dispensing window in time order (nurse, doctor, admin)."""
    user = ctx.require(Role.NURSE, Role.DOCTOR, Role.ADMIN)
    site = get_site(ctx, site_id)
    entries = build_roster(ctx, site_id, day)  # sorted by window, then name
    ahead = _states_on_the_morning_of(ctx, entries, day) if day > ctx.today else {}
    groups: dict[str, list[SheetLine]] = {}
    for e in entries:
        key = ", ".join(f"{w.start:%H:%M}–{w.end:%H:%M}" for w in e.windows) or NO_WINDOW
        groups.setdefault(key, []).append(_line(ctx, e, ahead.get((e.patient.id, e.slot.drug))))
    audit.record(
        ctx,
        "contingency.print",
        "site",
        site_id,
        detail={"date": day, "patient_ids": sorted({e.patient.id for e in entries})},
    )
    return Sheet(
        site_name=site.name,
        day=day,
        printed_at=ctx.now.astimezone(ctx.tz),
        printed_by=user.full_name or user.username,
        windows=tuple((k, tuple(v)) for k, v in groups.items()),
    )


def _states_on_the_morning_of(ctx: Ctx, entries: list[RosterEntry], day: date) -> dict[tuple[int, Drug], MissedState]:
    """Missed days and blocks as the window will see them on `day` if nothing more is recorded before it.

    The evening job prints tomorrow's sheet: the roster counts missed days only before today, but a
    patient who did not come today either is blocked tomorrow. Judged on the safe side: a day still
    without a dose when the sheet is printed counts as missed, exactly as the window will count it."""
    orders = [e.order for e in entries if e.slot.status == SlotStatus.DUE]
    morning = datetime.combine(day, time.min, tzinfo=ctx.tz).astimezone(UTC)
    return missed_states(replace(ctx, now=morning), orders, day)  # reads only: no write happens at that time


def contingency_sheet_pdf(ctx: Ctx, site_id: int, day: date) -> bytes:
    """The printable sheet (A4 landscape, Danish) of every dose due at the site on the day."""
    return render_contingency_sheet(contingency_sheet(ctx, site_id, day))
