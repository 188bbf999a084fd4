"""When the system is down: the printable contingency sheet, and the paper records entered afterwards."""

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import CtxDep
from api.routers.labels import dispense_read, pdf
from api.schemas import Day, DispenseRead
from dispensing.services import afterwards
from dispensing.services.contingency import contingency_sheet_pdf

router = APIRouter(tags=["contingency"])


@router.get("/sites/{site_id}/contingency.pdf", response_class=Response)
def contingency_pdf(site_id: int, ctx: CtxDep, date: Day | None = None):
    """Every dose due at the site on the date (default today) on paper (A4, Danish), with room for the
    breath reading, the time and the nurse's initials; an audited read."""
    day = date or ctx.today
    return pdf(contingency_sheet_pdf(ctx, site_id, day), f"noedliste-{site_id}-{day}.pdf")


@router.get("/dispenses/entered-afterwards", response_model=list[DispenseRead])
def entered_afterwards(ctx: CtxDep, date: Day | None = None):
    """The dispenses entered on the date (default today) from the paper sheet, with both times."""
    return [dispense_read(ctx, d) for d in afterwards.entered_afterwards(ctx, date or ctx.today)]
