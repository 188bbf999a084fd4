"""Corrections at the window in the browser (DOMAIN rule 13): the doctor re-opens a withheld or voided
dose, the nurse undoes a no-show; both the same day, with a reason (services/corrections)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.web import i18n
from api.web.common import PostCtx, attempt, redirect
from api.web.window import _slot_page_for
from dispensing.services import corrections

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.post("/slots/{slot_id}/reopen")
def reopen(request: Request, ctx: PostCtx, slot_id: int, reason: Annotated[str, Form()] = "") -> Response:
    on_refusal = _slot_page_for(request, slot_id, {"reopen_reason": reason})
    attempt(ctx, corrections.reopen_slot, slot_id, reason, on_refusal=on_refusal)
    return redirect(request, f"/ui/slots/{slot_id}", i18n.gettext("Re-opened: the dose is due again today."))


@router.post("/slots/{slot_id}/undo-no-show")
def undo_no_show(request: Request, ctx: PostCtx, slot_id: int, reason: Annotated[str, Form()] = "") -> Response:
    on_refusal = _slot_page_for(request, slot_id, {"undo_reason": reason})
    attempt(ctx, corrections.undo_no_show, slot_id, reason, on_refusal=on_refusal)
    return redirect(request, f"/ui/slots/{slot_id}", i18n.gettext("No-show undone: the dose is due again."))
