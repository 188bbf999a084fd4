"""Read-only view models for the pages, assembled from the services' own functions (no rule lives here).

`slot_view` takes one slot's entry from `roster.slot_entry` (the roster's own computation, for one
patient), so opening a patient at the window neither rebuilds the roster nor logs a read of every
patient on it.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from api.web import i18n
from dispensing.catalogue import CATALOGUE, Product
from dispensing.enums import Drug, SiteKind
from dispensing.messages import Message
from dispensing.models import (
    Alert,
    AlertKind,
    Dispense,
    DispensingWindow,
    Patient,
    Prescription,
    Site,
    Slot,
    SlotStatus,
    User,
)
from dispensing.policy import Policy
from dispensing.rules.afterwards import ENTRY_DAYS_AFTER
from dispensing.rules.arrangement import SanctionTerms
from dispensing.rules.breath import breath_threshold
from dispensing.rules.cpr import mask_cpr
from dispensing.services.context import Ctx
from dispensing.services.corrections import latest_dispense
from dispensing.services.dispense import needs_supervision
from dispensing.services.patients import read_patient
from dispensing.services.roster import NOT_COLLECTED, RosterEntry, slot_entry
from dispensing.services.sites import get_site


def windows_text(windows: list[DispensingWindow]) -> str:
    return ", ".join(f"{w.start:%H:%M}–{w.end:%H:%M}" for w in windows)


def dose_text(drug: Drug, product: Product | None, dose: Decimal) -> str:
    text = f"{i18n.mg(dose)} mg"
    if product is not None and product.mg_per_ml:
        text += f" = {i18n.mg(dose / product.mg_per_ml)} ml"
    return text


@dataclass
class RosterRow:
    slot_id: int
    patient_id: int
    name: str
    cpr_masked: str
    drug: str
    dose: str
    product: str
    windows: str
    status: str
    breath: bool
    urine: bool
    missed: int
    blocked: str | None
    sanctions: list[str]
    take_home: int
    cpr: str  # digits, for the search only; never rendered
    recorded_afterwards: bool = False  # handed out from the paper sheet, entered later
    outside_window: bool = False
    part: str | None = None  # a split dose: "kl. 08:00, superviseret" / "kl. 20:00, hjemmedosis"


def part_text(part) -> str:
    """A part of a split dose as the roster shows it: its time and how it is taken."""
    how = i18n.gettext("supervised") if part.supervised else i18n.gettext("take-home")
    return f"{i18n.gettext('at')} {part.at.strftime('%H:%M')}, {how}" if part.at else how


def roster_rows(entries: list[RosterEntry]) -> list[RosterRow]:
    """The roster's lines for the template (a 300-line roster is built in a few ms: texts shared by many
    lines, the windows and the doses, are formatted once)."""
    windows: dict[tuple[int, ...], str] = {}
    doses: dict[tuple, tuple[str, str]] = {}
    rows = []
    for e in entries:
        order = e.order
        wkey = tuple(w.id for w in e.windows)
        if wkey not in windows:
            windows[wkey] = windows_text(e.windows)
        dkey = (order.drug, order.product, e.dose_mg)
        if dkey not in doses:
            product = CATALOGUE[order.drug].product(order.product)
            doses[dkey] = (dose_text(order.drug, product, e.dose_mg), product.name if product else order.product)
        dose, product_name = doses[dkey]
        patient = e.patient
        rows.append(
            RosterRow(
                slot_id=e.slot.id,
                patient_id=patient.id,
                name=patient.name,
                cpr_masked=mask_cpr(patient.cpr),
                drug=i18n.drug_name(e.slot.drug),
                dose=dose,
                product=product_name,
                windows=windows[wkey],
                status=e.slot.status.value,
                breath=e.breathalyser_required,
                urine=e.urine_sample_due,
                missed=e.missed_consecutive,
                blocked=e.blocked_reason,
                sanctions=[i18n.SANCTION_STEP[s.step.value] for s in e.sanctions],
                take_home=e.take_home_days,
                cpr=patient.cpr,
                recorded_afterwards=e.recorded_afterwards,
                outside_window=e.outside_window,
                part=part_text(e.part) if e.part else None,
            )
        )
    return rows


def search_rows(rows: list[RosterRow], q: str) -> list[RosterRow]:
    """Name (any part, any case) or CPR digits: the last digits, or the first six (birth date)."""
    q = q.strip()
    if not q:
        return rows
    digits = q.replace("-", "").replace(" ", "")
    if digits.isdigit():
        return [r for r in rows if r.cpr.endswith(digits) or (len(digits) >= 6 and r.cpr.startswith(digits))]
    needle = q.casefold()
    return [r for r in rows if needle in r.name.casefold()]


@dataclass
class SlotView:
    slot: Slot
    patient: Patient
    order: Prescription
    site: Site
    product: Product | None
    dose: str
    windows: str
    breath_required: bool
    breath_limit: Decimal | None
    supervised_required: bool
    missed: int
    blocked: Message | None
    take_home_dates: list[date]
    no_take_home_sanction: SanctionTerms | None
    sanctions: tuple[SanctionTerms, ...]
    urine_due: bool
    prescriber: str
    dispense: Dispense | None = None  # the dispense of this slot, or the take-home one covering it
    dispensed_by: str = ""
    handed_out_by: str = ""  # a prepared dose: who at the site handed it out (once they have)
    withheld_reason: str = ""  # in Danish, from the doctor's alert for this slot
    notes: list[str] = field(default_factory=list)
    outside_window: bool = False  # no window for the drug is open now: dispensing needs a reason
    today: date | None = None

    @property
    def can_reopen(self) -> bool:
        """Today's dose withheld, or its dispense voided: the doctor may re-open it (rule 13)."""
        if self.slot.slot_date != self.today:
            return False
        if self.slot.status == SlotStatus.WITHHELD:
            return True
        voided = self.dispense is not None and self.dispense.slot_id == self.slot.id and not self.dispense.in_effect
        return self.slot.status in (SlotStatus.DISPENSED, SlotStatus.PREPARED) and voided

    @property
    def can_undo_no_show(self) -> bool:
        return self.slot.slot_date == self.today and self.slot.status == SlotStatus.MISSED

    @property
    def at_clinic(self) -> bool:
        return self.site.kind == SiteKind.CLINIC

    @property
    def takes_paper_record(self) -> bool:
        """A clinic dose of today or yesterday that is due, or that the day's end marked missed for want of
        a record: it may be entered from the contingency sheet (rules/afterwards.py)."""
        if not self.at_clinic or self.today is None or self.dispense is not None:
            return False
        if not 0 <= (self.today - self.slot.slot_date).days <= ENTRY_DAYS_AFTER:
            return False
        not_collected = self.slot.status == SlotStatus.MISSED and self.slot.reason == NOT_COLLECTED
        return self.due or (not_collected and self.slot.slot_date < self.today)

    @property
    def due(self) -> bool:
        return self.slot.status == SlotStatus.DUE


def slot_view(ctx: Ctx, slot_id: int) -> SlotView:
    """Everything the window shows for one slot; opening it is an audited read of the patient's record."""
    e = slot_entry(ctx, slot_id)  # the roster's own entry: the same rules, computed the same way
    slot, order = e.slot, e.order
    site = get_site(ctx, slot.site_id)
    product = CATALOGUE[order.drug].product(order.product)
    prescriber = ctx.session.get(User, order.signed_by_id) if order.signed_by_id else None
    view = SlotView(
        slot=slot,
        patient=e.patient,
        order=order,
        site=site,
        product=product,
        dose=dose_text(order.drug, product, e.dose_mg),
        windows=windows_text(e.windows),
        breath_required=e.breathalyser_required,
        breath_limit=breath_threshold(slot.drug, ctx.policy),
        supervised_required=needs_supervision(order, slot, e.plan) if e.plan else order.supervised,
        missed=e.missed_consecutive,
        blocked=e.blocked_reason,
        take_home_dates=e.take_home_dates,
        no_take_home_sanction=e.plan.no_take_home_because if e.plan else None,
        sanctions=e.sanctions,
        urine_due=e.urine_sample_due,
        prescriber=prescriber.full_name if prescriber else "",
        outside_window=e.outside_window,
        today=ctx.today,
    )
    d = latest_dispense(ctx, slot.id)  # the one in effect, else the latest voided or returned one
    if d is None and slot.covered_by_dispense_id:
        d = ctx.session.get(Dispense, slot.covered_by_dispense_id)
    if d is not None:
        view.dispense = d
        nurse = ctx.session.get(User, d.dispensed_by_id)
        view.dispensed_by = nurse.full_name if nurse else ""
        staff = ctx.session.get(User, d.handed_out_by_id) if d.handed_out_by_id else None
        view.handed_out_by = staff.full_name if staff else ""
    if slot.status == SlotStatus.WITHHELD:
        alert = ctx.session.scalars(  # the latest: a re-opened dose may be withheld again
            select(Alert)
            .where(Alert.slot_id == slot.id, Alert.kind == AlertKind.WITHHELD_DOSE)
            .order_by(Alert.id.desc())
        ).first()
        view.withheld_reason = i18n.stored(alert.code, alert.params, alert.message) if alert else slot.reason or ""
    read_patient(ctx, e.patient.id)
    return view


def titration_limits(policy: Policy) -> list[str]:
    """The methadone titration limits in force (DOMAIN rule 2), in the doctor's words."""
    return [
        i18n.gettext("First day: at most {mg} mg", mg=i18n.mg(policy.methadone_first_dose_max_mg)),
        i18n.gettext("Each increase: at most {mg} mg", mg=i18n.mg(policy.methadone_step_max_mg)),
        i18n.gettext("Within 7 days: at most {mg} mg more", mg=i18n.mg(policy.methadone_weekly_increase_max_mg)),
        i18n.gettext("Restart after missed days: at most {mg} mg", mg=i18n.mg(policy.methadone_restart_max_mg)),
    ]
