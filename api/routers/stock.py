"""Stock of controlled drugs per clinic and product: receipts, counts, waste, corrections, the ledger."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import CtxDep
from api.schemas.stock import (
    BalanceRead,
    CorrectionCreate,
    CountCreate,
    CountRead,
    EntryRead,
    LastCount,
    ReceiptCreate,
    WasteCreate,
    WitnessIn,
)
from dispensing.models import StockEntry, User
from dispensing.services import stock, stock_pdf
from dispensing.services.context import Ctx

router = APIRouter(tags=["stock"])


def _witness(w: WitnessIn) -> stock.Witness:
    return stock.Witness(username=w.username, password=w.password)


def _user_name(ctx: Ctx, user_id: int | None, users: dict[int, User] | None = None) -> str | None:
    if user_id is None:
        return None
    user = (users or {}).get(user_id) or ctx.session.get(User, user_id)
    return user.full_name if user else None


def entry_read(ctx: Ctx, e: StockEntry, users: dict[int, User] | None = None) -> EntryRead:
    return EntryRead(
        id=e.id,
        at=e.at,
        kind=e.kind.value,
        product=e.product,
        quantity=e.quantity,
        balance=e.balance_after,
        by=_user_name(ctx, e.by_id, users),
        witness=_user_name(ctx, e.witness_id, users),
        ref=stock.ref(e),
        dispense_id=e.dispense_id,
        reason=e.reason,
        batch=e.batch,
        expiry=e.expiry,
        supplier=e.supplier,
        counted=e.counted,
        corrects_id=e.corrects_id,
    )


@router.get("/sites/{site_id}/stock", response_model=list[BalanceRead])
def balances(site_id: int, ctx: CtxDep):
    """The clinic's balance of every controlled stock item it has had, with its last count."""
    out = []
    for v in stock.balances(ctx, site_id):
        c = v.last_count
        last = None
        if c is not None:
            last = LastCount(
                at=c.at,
                expected=c.balance_after,
                counted=c.counted,
                difference=c.difference,
                by=_user_name(ctx, c.by_id),
                witness=_user_name(ctx, c.witness_id),
            )
        out.append(
            BalanceRead(product=v.item.code, name=v.item.name, unit=v.item.unit, balance=v.balance, last_count=last)
        )
    return out


@router.post("/sites/{site_id}/stock/receipts", status_code=201, response_model=EntryRead)
def receive(site_id: int, body: ReceiptCreate, ctx: CtxDep):
    """Nurse or admin, with a witness: stock received (product, quantity in its unit, batch, expiry, supplier)."""
    e = stock.receive(
        ctx,
        site_id,
        product=body.product,
        quantity=body.quantity,
        batch=body.batch,
        expiry=body.expiry,
        supplier=body.supplier,
        witness=_witness(body.witness),
    )
    return entry_read(ctx, e)


@router.post("/sites/{site_id}/stock/counts", status_code=201, response_model=CountRead)
def count(site_id: int, body: CountCreate, ctx: CtxDep):
    """Nurse with a witness: what is there against the ledger; beyond the tolerance alerts the doctor and admin."""
    r = stock.count(ctx, site_id, product=body.product, counted=body.counted, witness=_witness(body.witness))
    return CountRead(
        entry=entry_read(ctx, r.entry),
        expected=r.expected,
        counted=r.counted,
        difference=r.difference,
        tolerance=r.tolerance,
        alert=r.alert,
    )


@router.post("/sites/{site_id}/stock/waste", status_code=201, response_model=EntryRead)
def waste(site_id: int, body: WasteCreate, ctx: CtxDep):
    """Nurse with a witness: spilt, broken or expired stock destroyed, with a reason."""
    e = stock.waste(
        ctx, site_id, product=body.product, quantity=body.quantity, reason=body.reason, witness=_witness(body.witness)
    )
    return entry_read(ctx, e)


@router.post("/sites/{site_id}/stock/corrections", status_code=201, response_model=EntryRead)
def correct(site_id: int, body: CorrectionCreate, ctx: CtxDep):
    """A counter-entry with a reason and a witness: the only way the balance changes after a count."""
    e = stock.correct(
        ctx,
        site_id,
        product=body.product,
        quantity=body.quantity,
        reason=body.reason,
        witness=_witness(body.witness),
        corrects_id=body.corrects_id,
    )
    return entry_read(ctx, e)


@router.get("/sites/{site_id}/stock/ledger", response_model=list[EntryRead])
def ledger(
    site_id: int,
    ctx: CtxDep,
    product: str,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
):
    """One product's entries in a period (the clinic's days), oldest first, each with the balance after it."""
    g = stock.ledger(ctx, site_id, product, from_, to)
    return [entry_read(ctx, e, g.users) for e in g.entries]


@router.get("/sites/{site_id}/stock/ledger.pdf", response_class=Response)
def ledger_pdf(site_id: int, ctx: CtxDep, month: str, product: str | None = None):
    """The month's ledger for the pharmacist inspector, one page per product, in Danish."""
    return Response(
        stock_pdf.ledger_pdf(ctx, site_id, month, product),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="lagerregnskab-{site_id}-{month}.pdf"'},
    )
