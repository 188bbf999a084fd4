"""Urine-test schedules (DOMAIN.md rule 7). Placeholder until the urine issue lands."""

from datetime import date

from dispensing.services.context import Ctx


def urine_due_today(ctx: Ctx, patient_ids: set[int], day: date) -> set[int]:
    """Patients among `patient_ids` who must give a urine sample on `day` (shown only on the day)."""
    return set()
