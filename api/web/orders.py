"""The doctor writes and revises orders: the order form, its "check" and its two posts (a new order,
a revision), which share one form model."""

from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel

from api.web import i18n
from api.web.common import Draw, PostCtx, WebCtx, attempt, page, parse_drug, redirect, refusal, require
from api.web.views import titration_limits
from dispensing.catalogue import CATALOGUE
from dispensing.enums import Drug, Role, SiteKind
from dispensing.errors import DispensingError, InvalidInput
from dispensing.models import Prescription
from dispensing.rules.cpr import mask_cpr
from dispensing.rules.split import Part
from dispensing.rules.steps import Step, parse_steps
from dispensing.services import prescriptions
from dispensing.services.context import Ctx
from dispensing.services.patients import read_patient
from dispensing.services.sites import list_sites

router = APIRouter(prefix="/ui", include_in_schema=False)
ALL_DAYS = list(range(7))
DRAFT_CREATED = "The draft was created: it is active once signed."


class OrderForm(BaseModel):
    """The order form as posted, for a new order and a revision alike (text as typed: the service and
    the helpers below refuse what they cannot read, with a code)."""

    product: str = ""
    dose: str = ""
    weekdays: list[int] = []  # the checked days; none checked is an empty list
    pickup_weekdays: list[int] = []
    supervised: str | None = None  # a checkbox: present when ticked
    site_id: int = 0
    start_date: str = ""  # a revision's effective date
    end_date: str = ""
    indication: str = ""
    override_reason: str = ""
    reason: str = ""  # a revision's reason
    steps: str = ""
    doses: str = ""
    action: str = "create"  # or "check": show what would be refused, write nothing

    def values(self) -> dict:
        """What the doctor typed, to draw the form again (after a refusal or a check)."""
        return self.model_dump(exclude={"action"}) | {"supervised": self.supervised is not None}

    def terms(self, drug: Drug, *, product: str | None, start_field: str) -> prescriptions.OrderTerms:
        """The order's terms as the service takes them; `start_field` names the start date in a refusal."""
        return prescriptions.OrderTerms(
            drug=drug,
            product=product,
            dose_mg=_dose(self.dose),
            weekdays=tuple(self.weekdays),
            pickup_weekdays=tuple(self.pickup_weekdays) if self.pickup_weekdays else None,
            supervised=self.supervised is not None,
            site_id=self.site_id,
            start_date=_date_or_refuse(self.start_date, start_field),
            end_date=_date_or_refuse(self.end_date, "end_date", optional=True),
            indication=self.indication,
            override_reason=self.override_reason or None,
            steps=_steps(self.steps),
            parts=_parts(self.doses),
        )


class NewOrderForm(OrderForm):
    patient_id: int
    drug: str


def _order_page(
    request: Request,
    ctx: Ctx,
    patient_id: int,
    drug: Drug,
    values: dict,
    *,
    current: Prescription | None = None,
    error: DispensingError | None = None,
    problems: list[str] | None = None,
    status: int = 200,
):
    patient = read_patient(ctx, patient_id)  # after a refusal too: the read is audited in what is committed
    info = CATALOGUE[drug]
    return page(
        request,
        "order_form.html",
        ctx,
        status=status,
        p=patient,
        drug=drug,
        info=info,
        values=values,
        current=current,
        sites=[s for s in list_sites(ctx) if s.kind != SiteKind.POLICE],
        limits=titration_limits(ctx.policy),
        error=refusal(error),
        problems=problems,
        today=ctx.today,
        mask=mask_cpr,
    )


def _order_page_for(request: Request, patient_id: int, drug: Drug, values: dict, current_id: int | None = None) -> Draw:
    """The order form with a refusal on it (and what the doctor had typed); the order revised is read again."""

    def draw(ctx: Ctx, error: DispensingError):
        current = prescriptions.get_order(ctx, current_id) if current_id is not None else None
        return _order_page(
            request, ctx, patient_id, drug, values, current=current, error=error, status=error.status_code
        )

    return draw


def _defaults(ctx: Ctx, drug: Drug) -> dict:
    return {
        "product": CATALOGUE[drug].products[0].code,
        "dose": "",
        "weekdays": ALL_DAYS,
        "pickup_weekdays": ALL_DAYS,
        "supervised": True,
        "site_id": None,  # no default: the doctor chooses (never the police station, rules 6 and 8)
        "start_date": ctx.today.isoformat(),
        "end_date": "",
        "indication": "",
        "override_reason": "",
        "reason": "",
        "steps": "",
        "doses": "",
    }


@router.get("/doctor/orders/new")
def new_order(request: Request, ctx: WebCtx, patient_id: int, drug: str | None = None):
    require(ctx, Role.DOCTOR)
    if drug not in {d.value for d in Drug}:
        p = read_patient(ctx, patient_id)
        return page(request, "order_drug.html", ctx, p=p, drugs=list(CATALOGUE.values()), mask=mask_cpr)
    return _order_page(request, ctx, patient_id, Drug(drug), _defaults(ctx, Drug(drug)))


T = TypeVar("T")


def _lines(text: str, read: Callable[[list[str]], T], code: str) -> tuple[T, ...]:
    """One item per non-empty line of a form's text box, read from its words (a decimal comma as a
    point); an unreadable line is refused with `code`, naming the line."""
    items = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        try:
            items.append(read(line.replace(",", ".").split()))
        except (IndexError, ValueError, ArithmeticError):
            raise InvalidInput(code, line=line.strip()) from None
    return tuple(items)


def _step(words: list[str]) -> Step:
    return Step(date.fromisoformat(words[0]), Decimal(words[1]))


def _part(words: list[str]) -> Part:
    at, dose, how = (words + ["S"])[:3] if len(words) == 2 else words  # no mark: supervised
    if how.upper() not in ("S", "H"):
        raise ValueError(how)
    return Part(time.fromisoformat(at), Decimal(dose), how.upper() == "S")


def _steps(text: str) -> tuple[Step, ...]:
    """Dose steps from the form: one "YYYY-MM-DD mg" per line (rule 18)."""
    return _lines(text, _step, "order.step_unreadable")


def _parts(text: str) -> tuple[Part, ...]:
    """A split dose from the form: one "HH:MM mg S|H" per line (S supervised, H take-home; rule 18)."""
    return _lines(text, _part, "order.part_unreadable")


def parts_text(order: Prescription) -> str:
    return "\n".join(
        f"{p.at.strftime('%H:%M') if p.at else ''} {i18n.mg(p.dose_mg)} {'S' if p.supervised else 'H'}".strip()
        for p in order.parts
    )


def steps_text(order: Prescription, after: date) -> str:
    """The order's steps still to come after `after`, as the form writes them."""
    steps = parse_steps(order.dose_steps) if order.dose_steps else ()
    return "\n".join(f"{s.from_date.isoformat()} {i18n.mg(s.dose_mg)}" for s in steps if s.from_date > after)


def _date_or_refuse(text: str, what: str, *, optional: bool = False) -> date | None:
    text = (text or "").strip()
    if not text and optional:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("input.date_format", what=what) from None


def _dose(text: str) -> Decimal | str:
    return (text or "").strip().replace(",", ".")


def _check(ctx: Ctx, patient_id: int, terms: prescriptions.OrderTerms) -> list[str]:
    """What the service would refuse, without writing: the terms, then the titration limits."""
    ctx.require(Role.DOCTOR)
    terms, _ = prescriptions.validate_terms(ctx, terms)
    return prescriptions.titration_problems(ctx, patient_id, terms.drug, terms.dose_mg, terms.start_date, terms.steps)


@router.post("/doctor/orders")
def create_order(request: Request, ctx: PostCtx, form: Annotated[NewOrderForm, Form()]):
    """A new draft (prescriptions.create_order); "check" shows what the service would refuse, writing nothing."""
    require(ctx, Role.DOCTOR)
    drug = parse_drug(form.drug)
    refused = _order_page_for(request, form.patient_id, drug, form.values())

    def terms() -> prescriptions.OrderTerms:
        return form.terms(drug, product=form.product or None, start_field="start_date")

    if form.action == "check":
        problems = attempt(ctx, lambda c: _check(c, form.patient_id, terms()), on_refusal=refused)
        return _order_page(request, ctx, form.patient_id, drug, form.values(), problems=problems)
    order = attempt(ctx, lambda c: prescriptions.create_order(c, form.patient_id, terms()), on_refusal=refused)
    return redirect(request, f"/ui/doctor#draft-{order.id}", i18n.gettext(DRAFT_CREATED))


@router.get("/doctor/orders/{order_id}/revise")
def revise_form(request: Request, ctx: WebCtx, order_id: int):
    require(ctx, Role.DOCTOR)
    current = prescriptions.read_order(ctx, order_id)
    effective = max(ctx.today, current.start_date)
    values = {
        "product": current.product,
        "dose": i18n.mg(current.dose_on(effective)),  # a schedule's step in force, not its first dose
        "weekdays": sorted(current.weekday_set),
        "pickup_weekdays": sorted(current.pickup_weekday_set),
        "supervised": current.supervised,
        "site_id": current.site_id,
        "start_date": effective.isoformat(),
        "end_date": current.end_date.isoformat() if current.end_date else "",
        "indication": current.indication,
        "override_reason": "",
        "reason": "",
        "steps": steps_text(current, effective),
        "doses": parts_text(current),
    }
    return _order_page(request, ctx, current.patient_id, current.drug, values, current=current)


@router.post("/doctor/orders/{order_id}/revise")
def revise(request: Request, ctx: PostCtx, order_id: int, form: Annotated[OrderForm, Form()]):
    """A new draft version (prescriptions.revise_order), superseding the order once signed; its start
    date is the revision's effective date."""
    require(ctx, Role.DOCTOR)
    current = prescriptions.get_order(ctx, order_id)
    refused = _order_page_for(request, current.patient_id, current.drug, form.values(), order_id)

    def terms() -> prescriptions.OrderTerms:
        return form.terms(current.drug, product=form.product or current.product, start_field="effective_date")

    if form.action == "check":
        problems = attempt(ctx, lambda c: _check(c, current.patient_id, terms()), on_refusal=refused)
        return _order_page(
            request, ctx, current.patient_id, current.drug, form.values(), current=current, problems=problems
        )

    def revise_order(c: Ctx) -> Prescription:
        t = terms()
        changes = {name: getattr(t, name) for name in prescriptions.REVISABLE if name != "drug"}  # the drug stays
        return prescriptions.revise_order(c, order_id, changes, t.start_date, form.reason)

    order = attempt(ctx, revise_order, on_refusal=refused)
    return redirect(request, f"/ui/doctor#draft-{order.id}", i18n.gettext(DRAFT_CREATED))
