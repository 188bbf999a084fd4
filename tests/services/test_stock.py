"""The controlled-drug ledger (DOMAIN.md rule 16): every movement an entry, two people for receipts,
counts and waste, the count tolerance, the negative balance that never stops a dose, immutability."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from dispensing.enums import Drug, Role, SiteKind
from dispensing.errors import Forbidden, InvalidInput
from dispensing.models import Alert, AlertKind, AuditEntry, StockBalance, StockEntry
from dispensing.services import audit, custody, policy, sites, stock
from dispensing.services.dispense import dispense
from dispensing.services.roster import build_roster
from tests.conftest import PASSWORD

MON = date(2026, 3, 2)
D = Decimal


@pytest.fixture
def clinic(factory):
    return factory.site(SiteKind.CLINIC)


@pytest.fixture
def witness(factory):
    w = factory.user(Role.NURSE)
    return stock.Witness(w.username, PASSWORD)


def receive(factory, site, witness, product="methadone-oral-1", quantity="1000", **kw):
    kw.setdefault("batch", "B-1")
    kw.setdefault("expiry", MON + timedelta(days=365))
    kw.setdefault("supplier", "Region Midtjylland Sygehusapotek")
    entry = stock.receive(
        factory.ctx(factory.nurse), site.id, product=product, quantity=quantity, witness=witness, **kw
    )
    factory.session.commit()
    return entry


def balance(factory, site, product="methadone-oral-1") -> Decimal:
    return factory.session.execute(
        select(StockBalance.balance).where(StockBalance.site_id == site.id, StockBalance.product == product)
    ).scalar_one()


def entries(factory, site, product="methadone-oral-1") -> list[StockEntry]:
    return stock.ledger(factory.ctx(factory.nurse), site.id, product).entries


def site_alerts(factory, site) -> list[Alert]:
    return list(factory.session.execute(select(Alert).where(Alert.site_id == site.id).order_by(Alert.id)).scalars())


def slot_of(factory, site, order, day=MON):
    return next(e.slot for e in build_roster(factory.ctx(factory.nurse), site.id, day) if e.order.id == order.id)


def dispense_at_window(factory, site, order, take_home_days=None):
    result = dispense(
        factory.ctx(factory.nurse),
        slot_of(factory, site, order).id,
        breath_promille=None,
        supervised=True,
        take_home_days=take_home_days,
    )
    factory.session.commit()
    return result.dispense


def test_a_receipt_is_witnessed_and_raises_the_balance(factory, clinic, witness, session):
    e = receive(factory, clinic, witness, quantity="500.5", batch="MX-42")
    assert (e.kind, e.quantity, e.balance_after, e.batch) == ("receipt", D("500.5"), D("500.5"), "MX-42")
    assert e.witness_id != e.by_id and e.by_id == factory.nurse.id
    receive(factory, clinic, witness, quantity=250)
    assert balance(factory, clinic) == D("750.5")
    assert [x.balance_after for x in entries(factory, clinic)] == [D("500.5"), D("750.5")]
    assert session.execute(select(AuditEntry.action).where(AuditEntry.action == "stock.receipt")).all()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"product": "antabus"}, "stock.unknown_product"),  # not controlled: no ledger
        ({"product": "methadone-oral-99"}, "stock.unknown_product"),
        ({"quantity": "0"}, "stock.quantity_not_positive"),
        ({"quantity": "-5"}, "stock.quantity_not_positive"),
        ({"quantity": "abc"}, "stock.quantity_invalid"),
        ({"quantity": "NaN"}, "stock.quantity_invalid"),
        ({"quantity": "1.0005"}, "stock.quantity_precision"),
        ({"expiry": MON - timedelta(days=1)}, "stock.expired"),
        ({"batch": "  "}, "stock.batch_required"),
        ({"supplier": ""}, "stock.supplier_required"),
    ],
)
def test_bad_receipts_are_refused_and_change_nothing(factory, clinic, witness, changes, code):
    receive(factory, clinic, witness, quantity="10")
    with pytest.raises(InvalidInput) as exc:
        receive(factory, clinic, witness, **changes)
    assert exc.value.code == code and exc.value.status_code == 422
    factory.session.rollback()
    assert balance(factory, clinic) == D("10") and len(entries(factory, clinic)) == 1


def test_stock_expiring_today_is_still_received(factory, clinic, witness):
    assert receive(factory, clinic, witness, expiry=MON).expiry == MON


def test_the_witness_is_another_active_user_with_their_own_password(factory, clinic, session):
    nurse = factory.nurse
    with pytest.raises(InvalidInput) as same:
        receive(factory, clinic, stock.Witness(nurse.username, PASSWORD))
    assert same.value.code == "auth.witness_is_actor"
    other = factory.user(Role.NURSE)
    with pytest.raises(InvalidInput) as wrong:
        receive(factory, clinic, stock.Witness(other.username, "not-the-password"))
    assert wrong.value.code == "auth.witness_refused" and wrong.value.keep_changes
    session.commit()  # as the request does for keep_changes: the failed attempt is audited
    audit.sweep_inbox(session)  # (through the inbox: chained when the log is read)
    failed = session.execute(select(AuditEntry).where(AuditEntry.action == "auth.witness_failed")).scalars().all()
    assert [(f.detail["username"], f.detail["action"]) for f in failed] == [(other.username, "stock.receive")]
    with pytest.raises(InvalidInput) as unknown:
        receive(factory, clinic, stock.Witness("nobody-here", PASSWORD))
    assert unknown.value.code == "auth.witness_refused"
    pharmacy_staff = factory.user(Role.SITE_STAFF, site_id=factory.site(SiteKind.PHARMACY).id)
    with pytest.raises(InvalidInput):  # pickup-site staff do not witness the clinic's stock
        receive(factory, clinic, stock.Witness(pharmacy_staff.username, PASSWORD))
    with pytest.raises(InvalidInput) as missing:
        receive(factory, clinic, None)
    assert missing.value.code == "auth.witness_required"
    session.rollback()
    assert session.execute(select(StockEntry).where(StockEntry.site_id == clinic.id)).first() is None


def test_only_clinics_keep_stock_and_only_staff_record_it(factory, witness):
    pharmacy = factory.site(SiteKind.PHARMACY)
    with pytest.raises(InvalidInput) as exc:
        receive(factory, pharmacy, witness)
    assert exc.value.code == "stock.site_not_clinic"
    clinic = factory.site()
    staff = factory.user(Role.SITE_STAFF, site_id=pharmacy.id)
    with pytest.raises(Forbidden):
        stock.receive(
            factory.ctx(staff),
            clinic.id,
            product="methadone-oral-1",
            quantity="1",
            batch="b",
            expiry=MON,
            supplier="s",
            witness=witness,
        )
    with pytest.raises(Forbidden):
        stock.balances(factory.ctx(staff), clinic.id)


def test_a_window_dispense_takes_the_day_and_each_take_home_day_in_ml(factory, clinic, witness):
    receive(factory, clinic, witness, quantity="1000")
    order = factory.order(site=clinic, dose="30", pickup_weekdays=(0, 3))  # Mon: Mon-Wed, 1 mg/ml
    d = dispense_at_window(factory, clinic, order)
    (e,) = [x for x in entries(factory, clinic) if x.kind == "dispense"]
    assert (e.quantity, e.balance_after, e.dispense_id, e.days) == (D("-90"), D("910"), d.id, 3)
    assert stock.ref(e) == d.number


def test_tablets_by_strength_and_several_strengths_greedily(factory, clinic, witness):
    tab = factory.order(site=clinic, dose="25", product="methadone-tab-20")
    dispense_at_window(factory, clinic, tab)
    assert entries(factory, clinic, "methadone-tab-20")[-1].quantity == D("-1.25")  # a quarter tablet
    bup = factory.order(site=clinic, drug=Drug.BUPRENORPHINE, dose="10.4", product="subutex-sl")
    dispense_at_window(factory, clinic, bup)
    out = {p: entries(factory, clinic, p)[-1].quantity for p in ("subutex-sl-8", "subutex-sl-2", "subutex-sl-0.4")}
    assert out == {"subutex-sl-8": D("-1"), "subutex-sl-2": D("-1"), "subutex-sl-0.4": D("-1")}


def test_drugs_that_are_not_controlled_have_no_ledger(factory, clinic):
    order = factory.order(site=clinic, drug=Drug.DISULFIRAM, dose="400")
    dispense(
        factory.ctx(factory.nurse),
        slot_of(factory, clinic, order).id,
        breath_promille=D("0"),
        supervised=True,
        take_home_days=None,
    )
    assert factory.session.execute(select(StockEntry).where(StockEntry.site_id == clinic.id)).first() is None


def test_a_negative_balance_never_stops_the_dose_and_alerts_at_once(factory, clinic, witness):
    receive(factory, clinic, witness, quantity="40")
    first = factory.order(site=clinic, dose="30")
    second = factory.order(site=clinic, dose="30")
    dispense_at_window(factory, clinic, first)
    assert site_alerts(factory, clinic) == []
    d = dispense_at_window(factory, clinic, second)
    assert d is not None and balance(factory, clinic) == D("-20")
    (alert,) = site_alerts(factory, clinic)
    assert (alert.kind, alert.patient_id, alert.code) == (AlertKind.STOCK_NEGATIVE, None, "stock.alert.negative")
    assert "count and receive stock" in alert.message
    assert "optæl og modtag" in stock.alert_text(alert.code, alert.params, "da")
    dispense_at_window(factory, clinic, factory.order(site=clinic, dose="30"))
    assert len(site_alerts(factory, clinic)) == 1  # one alert per fall below zero, not one per dose


def test_a_prepared_dose_leaves_the_clinic_and_a_return_brings_it_back_or_wastes_it(factory, clinic, witness):
    pharmacy = factory.site(SiteKind.PHARMACY, windows=[sites.WindowSpec(d, time(9), time(17)) for d in range(7)])
    nurse = factory.user(Role.NURSE, site_id=clinic.id)
    receive(factory, clinic, witness, quantity="500")
    staff = factory.user(Role.SITE_STAFF, site_id=pharmacy.id)
    unopened = factory.order(site=pharmacy, dose="30", pickup_weekdays=(0, 2))  # Mon and Tue
    d = custody.prepare_for_site(factory.ctx(nurse), slot_of(factory, pharmacy, unopened).id, take_home_days=None)
    factory.session.commit()  # as the request does: the ledger is written just before COMMIT
    assert balance(factory, clinic) == D("440")
    custody.return_to_clinic(factory.ctx(staff), d.id, "Ikke afhentet")
    assert balance(factory, clinic) == D("500")
    opened = factory.order(site=pharmacy, dose="20")
    d2 = custody.prepare_for_site(factory.ctx(nurse), slot_of(factory, pharmacy, opened).id, take_home_days=None)
    custody.return_to_clinic(factory.ctx(staff), d2.id, "Flasken var åbnet", opened=True)
    kinds = [(e.kind.value, e.quantity) for e in entries(factory, clinic)]
    assert kinds[-3:] == [("prepared", D("-20")), ("returned", D("20")), ("waste", D("-20"))]
    assert balance(factory, clinic) == D("480")


def test_a_void_brings_the_untaken_days_back_or_to_waste_as_the_nurse_says(factory, clinic, witness):
    receive(factory, clinic, witness, quantity="1000")
    order = factory.order(site=clinic, dose="30", pickup_weekdays=(0, 3))
    d = dispense_at_window(factory, clinic, order)  # 3 days: 90 ml
    custody.void_dispense(factory.ctx(factory.nurse), d.id, "Forkert dosis", back_to_stock=True, witness=witness)
    last = entries(factory, clinic)[-1]
    assert (last.kind, last.quantity, last.balance_after) == ("void", D("60"), D("970"))  # today's was taken
    other = factory.order(site=clinic, dose="30", pickup_weekdays=(0, 3))
    d2 = dispense_at_window(factory, clinic, other)
    custody.void_dispense(factory.ctx(factory.nurse), d2.id, "Flaske knust", witness=witness)  # default: destroyed
    tail = [(e.kind.value, e.quantity) for e in entries(factory, clinic)[-2:]]
    assert tail == [("void", D("60")), ("waste", D("-60"))] and balance(factory, clinic) == D("880")


def test_waste_needs_a_reason_and_a_witness(factory, clinic, witness):
    receive(factory, clinic, witness, quantity="100")
    ctx = factory.ctx(factory.nurse)
    with pytest.raises(InvalidInput) as exc:
        stock.waste(ctx, clinic.id, product="methadone-oral-1", quantity="5", reason=" ", witness=witness)
    assert exc.value.code == "stock.reason_required"
    e = stock.waste(ctx, clinic.id, product="methadone-oral-1", quantity="5", reason="Spildt", witness=witness)
    assert (e.kind, e.quantity, e.balance_after, e.reason) == ("waste", D("-5"), D("95"), "Spildt")


def test_a_count_records_the_difference_but_only_a_correction_moves_the_balance(factory, clinic, witness):
    receive(factory, clinic, witness, product="methadone-tab-5", quantity="100")
    ctx = factory.ctx(factory.nurse)
    same = stock.count(ctx, clinic.id, product="methadone-tab-5", counted="100", witness=witness)
    assert (same.expected, same.difference, same.alert) == (D("100"), D("0"), False)
    short = stock.count(ctx, clinic.id, product="methadone-tab-5", counted="99", witness=witness)
    assert (short.difference, short.alert) == (D("-1"), True)  # tablets: tolerance 0
    (alert,) = site_alerts(factory, clinic)
    assert (alert.kind, alert.patient_id, alert.site_id) == (AlertKind.STOCK_COUNT_DIFFERENCE, None, clinic.id)
    assert balance(factory, clinic, "methadone-tab-5") == D("100")  # never silently
    fix = stock.correct(
        ctx,
        clinic.id,
        product="methadone-tab-5",
        quantity="-1",
        reason="Optalt 99",
        witness=witness,
        corrects_id=short.entry.id,
    )
    assert (fix.kind, fix.balance_after, fix.corrects_id) == ("correction", D("99"), short.entry.id)
    with pytest.raises(InvalidInput) as zero:
        stock.correct(ctx, clinic.id, product="methadone-tab-5", quantity="0", reason="x", witness=witness)
    assert zero.value.code == "stock.correction_zero"
    last = stock.balances(ctx, clinic.id)[0].last_count
    assert (last.counted, last.difference) == (D("99"), D("-1"))


def test_solutions_are_counted_within_one_percent_of_the_balance(factory, clinic, witness):
    receive(factory, clinic, witness, quantity="1000")
    ctx = factory.ctx(factory.nurse)
    inside = stock.count(ctx, clinic.id, product="methadone-oral-1", counted="990", witness=witness)
    assert (inside.tolerance, inside.alert) == (D("10"), False)
    over = stock.count(ctx, clinic.id, product="methadone-oral-1", counted="1010.001", witness=witness)
    assert over.alert
    policy.update_policy(factory.ctx(factory.doctor), {"stock_count_tolerance_solution_percent": "2"})
    ctx = factory.ctx(factory.nurse)
    assert not stock.count(ctx, clinic.id, product="methadone-oral-1", counted="1015", witness=witness).alert
    policy.update_policy(factory.ctx(factory.doctor), {"stock_count_tolerance_tablets": "1"})
    receive(factory, clinic, witness, product="suboxone-8", quantity="10")
    ctx = factory.ctx(factory.nurse)
    assert not stock.count(ctx, clinic.id, product="suboxone-8", counted="9", witness=witness).alert


def test_ledger_entries_are_never_changed_or_removed(factory, clinic, witness, session):
    e = receive(factory, clinic, witness)
    for statement in (
        f"UPDATE stock_entries SET quantity = 1 WHERE id = {e.id}",
        f"DELETE FROM stock_entries WHERE id = {e.id}",
    ):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement))
    session.expire_all()
    assert entries(factory, clinic)[0].quantity == D("1000")


def test_the_ledger_of_a_period_starts_from_the_balance_before_it(factory, clinic, witness, clock):
    receive(factory, clinic, witness, quantity="100")
    clock.set(MON + timedelta(days=3))
    receive(factory, clinic, witness, quantity="50")
    clock.set(MON + timedelta(days=5))
    receive(factory, clinic, witness, quantity="25")
    g = stock.ledger(factory.ctx(factory.nurse), clinic.id, "methadone-oral-1", MON + timedelta(1), MON + timedelta(4))
    assert (g.opening, [e.quantity for e in g.entries], g.closing) == (D("100"), [D("50")], D("150"))
    with pytest.raises(InvalidInput) as exc:
        stock.ledger(factory.ctx(factory.nurse), clinic.id, "methadone-oral-1", MON, MON - timedelta(1))
    assert exc.value.code == "stock.period_reversed"


def test_the_units_follow_the_product(factory):
    assert stock.stock_item("methadone-oral-10").unit == "ml"
    assert stock.stock_item("espranor-8").unit == "tablet"
