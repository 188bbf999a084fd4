"""Stock of controlled drugs (DOMAIN.md rule 16): an append-only ledger per site and stock item.

`stock_entries` is never updated or deleted (database triggers, as for the audit log); a mistake is
corrected by a counter-entry. `stock_balances` holds each (site, item)'s current balance: a mover
locks that one row, appends its entry with the balance after it, and moves the balance, all in the
use case's transaction. So movements of one item at one site are serialised, and nothing else is.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.models.base import Base, str_enum
from dispensing.types import UTCDateTime

__all__ = ["StockBalance", "StockEntry", "StockEntryKind", "Quantity"]


def Quantity() -> Numeric:
    """A stock quantity in the item's unit (ml or tablets), exact to a thousandth, signed in the ledger."""
    return Numeric(12, 3, asdecimal=True)


class StockEntryKind(StrEnum):
    """receipt (+), dispense at the window (-), prepared for a pickup site (-), returned unopened (+),
    void back to stock (+), waste (-), count (0: records the counted quantity), correction (+/-)."""

    RECEIPT = "receipt"
    DISPENSE = "dispense"
    PREPARED = "prepared"
    RETURNED = "returned"
    VOID = "void"
    WASTE = "waste"
    COUNT = "count"
    CORRECTION = "correction"


class StockBalance(Base):
    """The current balance of one stock item at one site; the row a movement locks."""

    __tablename__ = "stock_balances"
    __table_args__ = (UniqueConstraint("site_id", "product", name="uq_stock_balances_site_product"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    product: Mapped[str] = mapped_column(String(40))  # catalogue.STOCK_ITEMS code
    balance: Mapped[Decimal] = mapped_column(Quantity())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StockEntry(Base):
    """One movement in a site's ledger (append-only)."""

    __tablename__ = "stock_entries"
    __table_args__ = (Index("ix_stock_entries_site_product", "site_id", "product", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    product: Mapped[str] = mapped_column(String(40))
    kind: Mapped[StockEntryKind] = mapped_column(str_enum(StockEntryKind, 20))
    quantity: Mapped[Decimal] = mapped_column(Quantity())  # signed: + into stock, - out of it
    balance_after: Mapped[Decimal] = mapped_column(Quantity())  # the running balance
    counted: Mapped[Decimal | None] = mapped_column(Quantity())  # counts: what the two people counted
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witness_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispense_id: Mapped[int | None] = mapped_column(ForeignKey("dispenses.id"), index=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("stock_entries.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    batch: Mapped[str | None] = mapped_column(String(64))
    expiry: Mapped[date | None] = mapped_column(Date)
    supplier: Mapped[str | None] = mapped_column(String(200))
    days: Mapped[int | None] = mapped_column(Integer)  # dispense/prepared: how many days' doses

    @property
    def expected(self) -> Decimal:
        """For a count: the ledger's balance at the time."""
        return self.balance_after

    @property
    def difference(self) -> Decimal | None:
        return None if self.counted is None else self.counted - self.balance_after
