"""Request and response bodies of the controlled-drug stock (API.md "Stock of controlled drugs").

Quantities are decimal strings in the product's unit (ml or tablets), accepted as a JSON number or
a decimal string; they are parsed exactly in the service (never a binary float).
"""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from api.schemas.common import DecimalStr, Model, Strict
from api.schemas.window import ReasonRequest

QuantityIn = Decimal | str | int


class WitnessIn(Strict):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1000)


class ReceiptCreate(Strict):
    product: str = Field(max_length=40)
    quantity: QuantityIn
    batch: str = Field(max_length=64)
    expiry: date
    supplier: str = Field(max_length=200)
    witness: WitnessIn


class CountCreate(Strict):
    product: str = Field(max_length=40)
    counted: QuantityIn
    witness: WitnessIn


class WasteCreate(Strict):
    product: str = Field(max_length=40)
    quantity: QuantityIn
    reason: str = Field(max_length=2000)
    witness: WitnessIn


class CorrectionCreate(Strict):
    product: str = Field(max_length=40)
    quantity: QuantityIn = Field(description="signed: positive adds to the balance, negative takes off")
    reason: str = Field(max_length=2000)
    witness: WitnessIn
    corrects_id: int | None = Field(None, description="the entry (e.g. a count) this corrects")


class LastCount(Model):
    at: datetime
    expected: DecimalStr
    counted: DecimalStr
    difference: DecimalStr
    by: str
    witness: str | None


class BalanceRead(Model):
    product: str
    name: str
    unit: str
    balance: DecimalStr
    last_count: LastCount | None


class EntryRead(Model):
    id: int
    at: datetime
    kind: str
    product: str
    quantity: DecimalStr
    balance: DecimalStr
    by: str
    witness: str | None
    ref: str | None = Field(description="what the entry comes from: a dispense (U-000123) or receipt batch")
    dispense_id: int | None
    reason: str | None
    batch: str | None
    expiry: date | None
    supplier: str | None
    counted: DecimalStr | None
    corrects_id: int | None


class CountRead(BaseModel):
    entry: EntryRead
    expected: DecimalStr
    counted: DecimalStr
    difference: DecimalStr
    tolerance: DecimalStr
    alert: bool


class VoidRequest(ReasonRequest):
    back_to_stock: bool = Field(False, description="the doses not taken go back into stock (else to waste)")
    witness: WitnessIn | None = Field(None, description="required when the dose was already handed over")


class ReturnRequest(ReasonRequest):
    opened: bool = Field(False, description="opened doses go to waste; unopened back into stock")
