"""Stock of controlled drugs (DOMAIN.md rule 16): receipts, counts, waste, corrections, and the
movements of the window (dispense, prepare, return, void), each an entry in the site's ledger.

Only controlled drugs are accounted for (methadone, buprenorphine, buprenorphine/naloxone: the
catalogue's `controlled`); Antabus and Campral have no stock items and pass by untouched.

Every movement locks the one balance row of its (site, stock item), appends its entry with the
balance after it and moves the balance, in the use case's transaction: movements of one item at
one site queue behind each other, nothing else does (no global lock on the dispense path). Several
rows are locked in the order of their item code, so two movements never wait on each other in a
circle. The ledger never stops a dose: a movement that takes a balance below zero goes through
and alerts the doctor and the admin at once.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select

from dispensing import messages
from dispensing.catalogue import CATALOGUE, STOCK_ITEMS, StockItem, stock_items_for
from dispensing.db import run_late_writes, write_late
from dispensing.enums import Role, SiteKind
from dispensing.errors import InvalidInput
from dispensing.models import (
    AlertKind,
    Dispense,
    DispenseStatus,
    Prescription,
    Site,
    Slot,
    StockBalance,
    StockEntry,
    StockEntryKind,
    User,
)
from dispensing.rules.stock import beyond_tolerance, count_tolerance, units_for_dose
from dispensing.services import audit, passwords
from dispensing.services.alerts import raise_alert
from dispensing.services.context import Ctx
from dispensing.services.records import get_or_404, referenced
from dispensing.services.sql import insert_ignoring_conflicts

log = logging.getLogger(__name__)

ZERO = Decimal("0")
QUANTUM = Decimal("0.001")  # the ledger's precision (Numeric(12, 3))
MAX_QUANTITY = Decimal("100000000")
# Kinds that move a dose of a dispense out of stock or back in: what is still out for a dispense.
_DISPENSE_KINDS = (StockEntryKind.DISPENSE, StockEntryKind.PREPARED, StockEntryKind.RETURNED, StockEntryKind.VOID)
STAFF = (Role.NURSE, Role.DOCTOR, Role.ADMIN)
# A quantity as the client sent it (JSON number, decimal string, form field), before parse_quantity.
Quantity = Decimal | int | float | str


Witness = passwords.Witness  # the screens build a stock movement's witness from here


# --- input -----------------------------------------------------------------------------------------


def stock_item(code: str) -> StockItem:
    """A controlled stock item of the catalogue, or 422 naming the codes there are."""
    item = STOCK_ITEMS.get((code or "").strip())
    if item is None:
        raise InvalidInput("stock.unknown_product", product=code, products=sorted(STOCK_ITEMS))
    return item


def parse_quantity(
    value: Quantity, *, field: str = "quantity", allow_zero: bool = False, signed: bool = False
) -> Decimal:
    """A quantity as an exact Decimal (JSON number or decimal string), refused when not a finite
    number, not positive (or zero where allowed), or finer than a thousandth."""
    try:
        q = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput("stock.quantity_invalid", field=field, value=str(value)) from None
    if not q.is_finite() or abs(q) >= MAX_QUANTITY:
        raise InvalidInput("stock.quantity_invalid", field=field, value=str(value))
    if q != q.quantize(QUANTUM):
        raise InvalidInput("stock.quantity_precision", field=field, value=q)
    if signed:
        if q == 0:
            raise InvalidInput("stock.correction_zero", field=field)
    elif q < 0 or (q == 0 and not allow_zero):
        raise InvalidInput("stock.quantity_not_positive", field=field, value=q)
    return q


def _text(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise InvalidInput(f"stock.{field}_required")
    return value.strip()


def clinic(ctx: Ctx, site_id: int) -> Site:
    """The site whose stock this is: only clinics keep stock (a pickup site gets prepared doses)."""
    site = get_or_404(ctx.session, Site, site_id)
    if site.kind != SiteKind.CLINIC:
        raise InvalidInput("stock.site_not_clinic", site=site.name)
    return site


# --- the ledger's one write path -------------------------------------------------------------------


def _lock_balance(ctx: Ctx, site_id: int, product: str) -> StockBalance:
    """The (site, item) balance row, locked until commit; made at zero on the first movement."""
    run_late_writes(ctx.session)  # this transaction's dispenses first: the entries stay in program order
    query = (
        select(StockBalance)
        .where(StockBalance.site_id == site_id, StockBalance.product == product)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = ctx.session.execute(query).scalar_one_or_none()
    if row is None:  # two first movements at once: one insert wins, both then lock the same row
        insert_ignoring_conflicts(
            ctx.session,
            StockBalance.__table__,
            [{"site_id": site_id, "product": product, "balance": ZERO, "updated_at": ctx.now}],
            ["site_id", "product"],
        )
        row = ctx.session.execute(query).scalar_one()
    return row


def _append(
    ctx: Ctx, site: Site, item: StockItem, kind: StockEntryKind, quantity: Decimal, **fields: Any
) -> tuple[StockEntry, Decimal]:
    """Append one entry and move the balance; returns the entry and the balance before it."""
    row = _lock_balance(ctx, site.id, item.code)
    before = row.balance
    entry = StockEntry(
        site_id=site.id,
        product=item.code,
        kind=kind,
        quantity=quantity,
        balance_after=before + quantity,
        at=ctx.now,
        by_id=ctx.require_actor().id,
        **fields,
    )
    ctx.session.add(entry)
    row.balance, row.updated_at = entry.balance_after, ctx.now
    ctx.session.flush()
    if before >= 0 > entry.balance_after:
        _alert_negative(ctx, site, item, entry)
    return entry, before


def _alert(ctx: Ctx, site: Site, kind: AlertKind, code: str, params: dict[str, object]) -> None:
    """A site alert for the doctor and the admin (no patient); its words come from the catalogues."""
    stored = {k: str(v) for k, v in params.items()}
    raise_alert(ctx, None, kind, alert_text(code, stored, "en"), site_id=site.id, code=code, params=stored)


def _alert_negative(ctx: Ctx, site: Site, item: StockItem, entry: StockEntry) -> None:
    _alert(
        ctx,
        site,
        AlertKind.STOCK_NEGATIVE,
        "stock.alert.negative",
        {"site": site.name, "product": item.name, "unit": item.unit, "balance": entry.balance_after},
    )


def alert_text(code: str, params: dict[str, str], locale: str) -> str:
    """A stored site alert in `locale`: numbers back to Decimal so they read as that language writes them."""
    values: dict[str, object] = {}
    for key, value in params.items():
        try:
            values[key] = Decimal(value) if key in ("balance", "expected", "counted", "difference") else value
        except InvalidOperation:
            values[key] = value
    if "unit" in values:
        values["unit"] = messages.text(f"stock.unit.{values['unit']}", {}, locale)
    return messages.text(code, values, locale)


# --- what the nurse records ------------------------------------------------------------------------


def receive(
    ctx: Ctx,
    site_id: int,
    *,
    product: str,
    quantity: Quantity,
    batch: str,
    expiry: date,
    supplier: str,
    witness: Witness | None,
) -> StockEntry:
    """Stock received at a clinic, checked in by the nurse (or admin) and a witness."""
    ctx.require(Role.NURSE, Role.ADMIN)
    site = clinic(ctx, site_id)
    item = stock_item(product)
    q = parse_quantity(quantity)
    batch, supplier = _text(batch, "batch"), _text(supplier, "supplier")
    if expiry is None:
        raise InvalidInput("stock.expiry_required")
    if expiry < ctx.today:
        raise InvalidInput("stock.expired", product=item.name, expiry=expiry, today=ctx.today)
    second = passwords.verify_witness(ctx, witness, action="stock.receive")
    entry, _ = _append(
        ctx, site, item, StockEntryKind.RECEIPT, q, witness_id=second.id, batch=batch, expiry=expiry, supplier=supplier
    )
    audit.record(
        ctx,
        "stock.receipt",
        "stock_entry",
        entry.id,
        detail={"site_id": site.id, "product": item.code, "quantity": q, "batch": batch, "witness": second.username},
    )
    return entry


@dataclass(frozen=True)
class CountResult:
    entry: StockEntry
    expected: Decimal
    counted: Decimal
    difference: Decimal
    tolerance: Decimal
    alert: bool


def count(ctx: Ctx, site_id: int, *, product: str, counted: Quantity, witness: Witness | None) -> CountResult:
    """Two people count an item: the ledger's balance against what is there. The balance itself is
    not changed (only a correction entry does that); a difference beyond the policy's tolerance
    alerts the doctor and the admin."""
    ctx.require(Role.NURSE)
    site = clinic(ctx, site_id)
    item = stock_item(product)
    n = parse_quantity(counted, field="counted", allow_zero=True)
    second = passwords.verify_witness(ctx, witness, action="stock.count")
    entry, expected = _append(ctx, site, item, StockEntryKind.COUNT, ZERO, counted=n, witness_id=second.id)
    difference = n - expected
    policy = ctx.policy
    tolerance = count_tolerance(
        item.unit,
        expected,
        tablets=policy.stock_count_tolerance_tablets,
        solution_percent=policy.stock_count_tolerance_solution_percent,
    )
    alert = beyond_tolerance(difference, tolerance)
    if alert:
        _alert(
            ctx,
            site,
            AlertKind.STOCK_COUNT_DIFFERENCE,
            "stock.alert.count_difference",
            {
                "site": site.name,
                "product": item.name,
                "unit": item.unit,
                "expected": expected,
                "counted": n,
                "difference": difference,
            },
        )
    audit.record(
        ctx,
        "stock.count",
        "stock_entry",
        entry.id,
        detail={
            "site_id": site.id,
            "product": item.code,
            "expected": expected,
            "counted": n,
            "difference": difference,
            "alert": alert,
            "witness": second.username,
        },
    )
    return CountResult(entry, expected, n, difference, tolerance, alert)


def waste(
    ctx: Ctx, site_id: int, *, product: str, quantity: Quantity, reason: str, witness: Witness | None
) -> StockEntry:
    """Spilt, broken or expired stock destroyed, with a reason and a witness."""
    ctx.require(Role.NURSE)
    site = clinic(ctx, site_id)
    item = stock_item(product)
    q = parse_quantity(quantity)
    reason = _text(reason, "reason")
    second = passwords.verify_witness(ctx, witness, action="stock.waste")
    entry, _ = _append(ctx, site, item, StockEntryKind.WASTE, -q, reason=reason, witness_id=second.id)
    audit.record(
        ctx,
        "stock.waste",
        "stock_entry",
        entry.id,
        detail={"site_id": site.id, "product": item.code, "quantity": q, "reason": reason, "witness": second.username},
    )
    return entry


def correct(
    ctx: Ctx,
    site_id: int,
    *,
    product: str,
    quantity: Quantity,
    reason: str,
    witness: Witness | None,
    corrects_id: int | None = None,
) -> StockEntry:
    """A counter-entry (+ or -) with a reason: the only way a mistake or a count's difference changes
    the balance. Entries themselves are never changed."""
    ctx.require(*STAFF)
    site = clinic(ctx, site_id)
    item = stock_item(product)
    q = parse_quantity(quantity, signed=True)
    reason = _text(reason, "reason")
    if corrects_id is not None:
        target = ctx.session.get(StockEntry, corrects_id)
        if target is None or target.site_id != site.id or target.product != item.code:
            raise InvalidInput("stock.correction_target", entry_id=corrects_id, product=item.name)
    second = passwords.verify_witness(ctx, witness, action="stock.correct")
    entry, _ = _append(
        ctx, site, item, StockEntryKind.CORRECTION, q, reason=reason, witness_id=second.id, corrects_id=corrects_id
    )
    audit.record(
        ctx,
        "stock.correction",
        "stock_entry",
        entry.id,
        detail={
            "site_id": site.id,
            "product": item.code,
            "quantity": q,
            "reason": reason,
            "corrects_id": corrects_id,
            "witness": second.username,
        },
    )
    return entry


# --- the window's movements (one call from each use case) ------------------------------------------


def preparing_clinic(ctx: Ctx) -> Site | None:
    """Whose stock a dose prepared for a pickup site leaves: the nurse's own clinic, else the first clinic."""
    actor_site = ctx.session.get(Site, ctx.actor.site_id) if ctx.actor and ctx.actor.site_id else None
    if actor_site is not None and actor_site.kind == SiteKind.CLINIC:
        return actor_site
    return ctx.session.execute(select(Site).where(Site.kind == SiteKind.CLINIC).order_by(Site.id).limit(1)).scalar()


def dispensed(ctx: Ctx, d: Dispense, product: str) -> None:
    """A dispense at the window (from that clinic's stock) or prepared for a pickup site (from the
    preparing clinic's stock): the day's dose and each take-home day, in the product's units.

    Written just before COMMIT (db.write_late): every dispense at the clinic moves the same balance row."""
    if not CATALOGUE[d.drug].controlled:
        return
    items = stock_items_for(product)
    if d.status == DispenseStatus.PREPARED:
        site, kind = preparing_clinic(ctx), StockEntryKind.PREPARED
    else:
        site, kind = ctx.session.get(Site, d.site_id), StockEntryKind.DISPENSE
    if site is None or site.kind != SiteKind.CLINIC or not items:
        log.warning("dispense %s of %s: no clinic stock to take it from", d.id, product)
        return
    days = len(d.covers)
    amounts = {item: per_day * days for item, per_day in units_for_dose(items, d.dose_mg)}
    if d.total_mg != d.dose_mg * days:  # a dose schedule steps within the span (rule 18): each day's own dose
        amounts = {}
        for dose in _day_doses(ctx, d):
            for item, quantity in units_for_dose(items, dose):
                amounts[item] = amounts.get(item, Decimal(0)) + quantity
    parts = sorted(amounts.items(), key=lambda p: p[0].code)  # lock order: by code
    from_site = site  # a closure does not keep the narrowing above

    def take_out() -> None:
        for item, quantity in parts:
            _append(ctx, from_site, item, kind, -quantity, dispense_id=d.id, days=days)

    write_late(ctx.session, take_out)


def _day_doses(ctx: Ctx, d: Dispense) -> list[Decimal]:
    """The dose of each day a dispense covers, from its order's schedule."""
    order = referenced(ctx.session, Prescription, d.prescription_id)
    part = referenced(ctx.session, Slot, d.slot_id).part
    return [order.dose_for(date.fromisoformat(day), part) for day in d.covers]


def _outstanding(ctx: Ctx, d: Dispense) -> list[tuple[Site, StockItem, Decimal]]:
    """What of this dispense is still out of stock, per clinic and item (from the ledger itself)."""
    run_late_writes(ctx.session)
    rows = ctx.session.execute(
        select(StockEntry.site_id, StockEntry.product, func.sum(StockEntry.quantity))
        .where(StockEntry.dispense_id == d.id, StockEntry.kind.in_(_DISPENSE_KINDS))
        .group_by(StockEntry.site_id, StockEntry.product)
        .order_by(StockEntry.product)
    ).all()
    return [(referenced(ctx.session, Site, s), STOCK_ITEMS[p], -q) for s, p, q in rows if q < 0]


def _back(ctx: Ctx, d: Dispense, kind: StockEntryKind, share: Decimal, *, to_stock: bool, reason: str) -> None:
    """The share of the dispense's doses that came back: into stock, or in and straight to waste."""
    for site, item, out in _outstanding(ctx, d):
        q = (out * share).quantize(QUANTUM)
        if q <= 0:
            continue
        _append(ctx, site, item, kind, q, dispense_id=d.id, reason=reason)
        if not to_stock:
            _append(ctx, site, item, StockEntryKind.WASTE, -q, dispense_id=d.id, reason=reason)


def returned(ctx: Ctx, d: Dispense, *, opened: bool, reason: str) -> None:
    """A prepared dose back from the pickup site: unopened into stock, opened to waste."""
    _back(ctx, d, StockEntryKind.RETURNED, Decimal(1), to_stock=not opened, reason=reason)


def voided(ctx: Ctx, d: Dispense, *, was_prepared: bool, back_to_stock: bool, reason: str) -> None:
    """A void: the doses not taken (all of a prepared one; the take-home days of one handed out at
    the window, whose own day was taken there) come back into stock or go to waste, as the nurse says."""
    days = len(d.covers)
    back_days = days if was_prepared else days - 1
    if back_days > 0:
        _back(ctx, d, StockEntryKind.VOID, Decimal(back_days) / Decimal(days), to_stock=back_to_stock, reason=reason)


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BalanceView:
    item: StockItem
    balance: Decimal
    last_count: StockEntry | None


def balances(ctx: Ctx, site_id: int) -> list[BalanceView]:
    """Every item the clinic has had, with its balance and its last count."""
    ctx.require(*STAFF)
    run_late_writes(ctx.session)
    site = clinic(ctx, site_id)
    rows = ctx.session.execute(select(StockBalance).where(StockBalance.site_id == site.id)).scalars().all()
    last_ids = select(func.max(StockEntry.id)).where(
        StockEntry.site_id == site.id, StockEntry.kind == StockEntryKind.COUNT
    )
    counts = {
        e.product: e
        for e in ctx.session.execute(
            select(StockEntry).where(StockEntry.id.in_(last_ids.group_by(StockEntry.product)))
        ).scalars()
    }
    views = [BalanceView(STOCK_ITEMS[r.product], r.balance, counts.get(r.product)) for r in rows]
    return sorted(views, key=lambda v: v.item.code)


@dataclass(frozen=True)
class Ledger:
    site: Site
    item: StockItem
    start: date | None
    end: date | None
    opening: Decimal  # the balance before the period
    entries: list[StockEntry]
    users: dict[int, User]

    @property
    def closing(self) -> Decimal:
        return self.entries[-1].balance_after if self.entries else self.opening


def _utc_start(ctx: Ctx, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ctx.tz)


def ledger(ctx: Ctx, site_id: int, product: str, start: date | None = None, end: date | None = None) -> Ledger:
    """One item's entries at a clinic in a period (the clinic's calendar days), with the running balance."""
    ctx.require(*STAFF)
    run_late_writes(ctx.session)
    site = clinic(ctx, site_id)
    item = stock_item(product)
    if start is not None and end is not None and end < start:
        raise InvalidInput("stock.period_reversed", start=start, end=end)
    base = select(StockEntry).where(StockEntry.site_id == site.id, StockEntry.product == item.code)
    query = base
    opening = ZERO
    if start is not None:
        query = query.where(StockEntry.at >= _utc_start(ctx, start))
        before = ctx.session.execute(
            base.where(StockEntry.at < _utc_start(ctx, start)).order_by(StockEntry.id.desc()).limit(1)
        ).scalar()
        opening = before.balance_after if before else ZERO
    if end is not None:
        query = query.where(StockEntry.at < _utc_start(ctx, end + timedelta(days=1)))
    entries = list(ctx.session.execute(query.order_by(StockEntry.id)).scalars())
    ids = {e.by_id for e in entries} | {e.witness_id for e in entries if e.witness_id}
    users = {u.id: u for u in ctx.session.execute(select(User).where(User.id.in_(ids))).scalars()} if ids else {}
    return Ledger(site, item, start, end, opening, entries, users)


def ref(e: StockEntry) -> str | None:
    """A short reference to what the entry comes from: the dispense, the receipt's batch, the corrected entry."""
    if e.dispense_id:
        return f"U-{e.dispense_id:06d}"
    if e.kind == StockEntryKind.RECEIPT:
        return e.batch
    if e.corrects_id:
        return f"#{e.corrects_id}"
    return None


def month_bounds(month: str) -> tuple[date, date]:
    """ "2026-12" -> (2026-12-01, 2026-12-31); 422 otherwise."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except (TypeError, ValueError):
        raise InvalidInput("stock.month_invalid", month=month) from None
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def items_until(ctx: Ctx, site_id: int, end: date) -> list[StockItem]:
    """The items with any entry at the clinic up to `end` (a monthly ledger's candidates)."""
    run_late_writes(ctx.session)
    site = clinic(ctx, site_id)
    codes = ctx.session.execute(
        select(StockEntry.product)
        .where(StockEntry.site_id == site.id, StockEntry.at < _utc_start(ctx, end + timedelta(days=1)))
        .distinct()
    ).scalars()
    return [STOCK_ITEMS[c] for c in sorted(codes)]
