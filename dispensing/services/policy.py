"""The clinic's policy: DOMAIN.md's defaults with the doctor's stored overrides."""

from typing import Any

from pydantic import ValidationError

from dispensing.enums import Role
from dispensing.errors import InvalidInput
from dispensing.models import ClinicPolicy
from dispensing.policy import Policy
from dispensing.services import audit
from dispensing.services.context import Ctx, load_policy


def update_policy(ctx: Ctx, changes: dict[str, Any]) -> Policy:
    """Change policy settings (doctor only); unknown keys or bad values change nothing."""
    doctor = ctx.require(Role.DOCTOR)
    current = load_policy(ctx.session)
    merged = current.model_dump(mode="json") | changes
    try:
        policy = Policy(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "policy"
        raise InvalidInput("policy.invalid_value", field=field, problem=first["msg"]) from exc
    row = ctx.session.get(ClinicPolicy, 1)
    values = policy.model_dump(mode="json")
    if row is None:
        ctx.session.add(ClinicPolicy(id=1, values=values, updated_at=ctx.now, updated_by_id=doctor.id))
    else:
        row.values, row.updated_at, row.updated_by_id = values, ctx.now, doctor.id
    audit.record(ctx, "policy.update", "policy", 1, detail={"changes": changes})
    ctx.__dict__.pop("policy", None)  # drop the cached copy
    return policy
