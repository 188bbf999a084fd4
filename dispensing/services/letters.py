"""Letters to the patient (Danish, wording in dispensing/letters/*.toml)."""

import io
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy import select

from dispensing.enums import SiteKind
from dispensing.models import Patient, Prescription, Sanction, Site, User
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.records import referenced
from dispensing.services.sanctions import get_sanction

LETTERS = Path(__file__).resolve().parent.parent / "letters"


@cache
def wording(name: str = "sanction_da") -> dict[str, Any]:
    with open(LETTERS / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)


def _clinic_name(ctx: Ctx, patient_id: int) -> str:
    name = ctx.session.execute(
        select(Site.name)
        .join(Prescription, Prescription.site_id == Site.id)
        .where(Prescription.patient_id == patient_id, Site.kind == SiteKind.CLINIC)
        .order_by(Prescription.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return name or "Rusmiddelcentret"


def sanction_letter_pdf(ctx: Ctx, sanction_id: int) -> bytes:
    """The decision letter for a sanction: what, why, for how long, and how to complain."""
    s: Sanction = get_sanction(ctx, sanction_id)
    patient = referenced(ctx.session, Patient, s.patient_id)
    doctor = referenced(ctx.session, User, s.decided_by_id)
    site = ctx.session.get(Site, s.site_id) if s.site_id else None
    w = wording()
    fmt = w["date_format"]
    values = {
        "patient_name": patient.name,
        "cpr": f"{patient.cpr[:6]}-{patient.cpr[6:]}",
        "clinic_name": _clinic_name(ctx, patient.id),
        "today": ctx.today.strftime(fmt),
        "meeting_on": s.meeting_on.strftime(fmt) if s.meeting_on else "",
        "starts_on": s.starts_on.strftime(fmt),
        "review_on": s.review_on.strftime(fmt),
        "ends_on": s.ends_on.strftime(fmt) if s.ends_on else "",
        "site_name": site.name if site else "",
        "reason": s.reason,
        "doctor_name": doctor.full_name,
        "referral_note": s.referral_note or "",
    }
    styles = getSampleStyleSheet()

    def para(text: str, style: str = "BodyText") -> Paragraph:
        escaped = text.format(**values).replace("&", "&amp;").replace("<", "&lt;").replace("\n", " ")
        return Paragraph(escaped, styles[style])

    termination = s.step.value == "termination"
    story = [
        para("{clinic_name}", "Heading3"),
        para("{patient_name}, CPR {cpr}"),
        para("{today}"),
        Spacer(0, 8 * mm),
        para(w["title"], "Title"),
        para(w["greeting"]),
        para(w["meeting"] if s.meeting_on else w["no_meeting"]),
        para(w["step"][s.step.value]),
        para(w["reason_heading"], "Heading4"),
        para("{reason}"),
        para(w["period_heading"], "Heading4"),
        para(w["period_termination"] if termination else w["period"]),
        para(w["complaint_heading"], "Heading4"),
        para(w["complaint"]),
        Spacer(0, 8 * mm),
        para(w["closing"]),
        para("{doctor_name}"),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=w["title"], leftMargin=25 * mm, rightMargin=25 * mm).build(story)
    audit.record(ctx, "sanction.letter", "sanction", s.id, patient_id=s.patient_id)
    return buffer.getvalue()
