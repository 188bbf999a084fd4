"""The signature check reads an order's columns from wherever they are: loaded, expired, or changed in the session."""

from decimal import Decimal

from sqlalchemy import text

from dispensing.services.prescriptions import signature_valid


def test_a_signed_order_verifies(factory):
    assert signature_valid(factory.ctx(), factory.order()) is True


def test_an_expired_order_is_loaded_again_and_still_verifies(factory, session):
    order = factory.order()
    session.expire(order)  # its columns are no longer in memory
    assert signature_valid(factory.ctx(), order) is True


def test_a_change_made_in_the_session_without_signing_fails(factory):
    order = factory.order(dose="30")
    order.dose_mg = Decimal("90")  # not flushed, not signed
    assert signature_valid(factory.ctx(), order) is False


def test_a_change_in_the_database_fails_once_the_order_is_read_again(factory, session):
    order = factory.order(dose="30")
    assert signature_valid(factory.ctx(), order) is True  # the verdict for these columns is now cached
    session.execute(text("UPDATE prescriptions SET dose_mg = 90 WHERE id = :id"), {"id": order.id})
    session.expire(order)
    assert signature_valid(factory.ctx(), order) is False
