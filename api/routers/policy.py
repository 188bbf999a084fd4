"""Clinic policy settings (DOMAIN.md's *(policy)* numbers)."""

from typing import Any

from fastapi import APIRouter

from api.deps import CtxDep
from dispensing.services.policy import update_policy

router = APIRouter(tags=["policy"])


@router.get("/policy")
def read_policy(ctx: CtxDep) -> dict[str, Any]:
    return ctx.policy.model_dump(mode="json")


@router.put("/policy")
def change_policy(body: dict[str, Any], ctx: CtxDep) -> dict[str, Any]:
    """Doctor: change some settings; the rest keep their values."""
    return update_policy(ctx, body).model_dump(mode="json")
