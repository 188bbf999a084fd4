"""Login."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import AnonCtxDep, CtxDep
from api.schemas import TokenRead, UserRead
from dispensing.security import create_access_token
from dispensing.services.users import authenticate

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenRead)
def login(request: Request, ctx: AnonCtxDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]):
    """OAuth2 password login; a wrong password is a 401 and is logged."""
    user = authenticate(ctx, form.username, form.password)
    settings = request.app.state.settings
    return TokenRead(access_token=create_access_token(ctx.secret, user.id, ctx.now, settings.access_token_minutes))


@router.get("/auth/me", response_model=UserRead)
def me(ctx: CtxDep):
    return ctx.actor
