"""Request-scoped dependencies: the session (one transaction per request), the clock, the user."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from dispensing.db import transaction
from dispensing.errors import NotAuthenticated
from dispensing.models import User
from dispensing.security import read_access_token
from dispensing.services.context import Ctx

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request, owned by `dispensing.db.transaction` (commit, or roll back on a refusal)."""
    with transaction(request.app.state.session_factory) as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is an error response.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def make_ctx(request: Request, session: Session, actor: User | None) -> Ctx:
    state = request.app.state
    return Ctx(
        session=session,
        actor=actor,
        now=state.clock(),
        tz=state.settings.tz,
        secret=state.secret,
        label_key=state.label_key,
        client=request.client.host if request.client else None,
    )


def get_anonymous_ctx(request: Request, session: SessionDep) -> Ctx:
    return make_ctx(request, session, None)


def get_ctx(request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Ctx:
    """The context of a logged-in user; 401 without a valid bearer token."""
    user_id = read_access_token(request.app.state.secret, token, request.app.state.clock()) if token else None
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise NotAuthenticated("auth.not_authenticated")
    return make_ctx(request, session, user)


CtxDep = Annotated[Ctx, Depends(get_ctx)]
AnonCtxDep = Annotated[Ctx, Depends(get_anonymous_ctx)]
