"""Sites (clinic, pharmacy, police station, home nursing) and their weekly windows."""

from dataclasses import dataclass
from datetime import time

from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload, selectinload

from dispensing.enums import Drug, Role, SiteKind
from dispensing.errors import Conflict, InvalidInput
from dispensing.models import DispensingWindow, Site
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.records import not_found


@dataclass(frozen=True)
class WindowSpec:
    weekday: int
    start: time
    end: time
    drugs: tuple[Drug, ...] | None = None


def create_site(ctx: Ctx, *, name: str, kind: SiteKind, address: str = "") -> Site:
    ctx.require(Role.ADMIN)
    name = name.strip()
    if not name:
        raise InvalidInput("site.name_required")
    try:
        kind = SiteKind(kind)
    except ValueError as exc:
        raise InvalidInput("site.unknown_kind", kind=kind, kinds=", ".join(k.value for k in SiteKind)) from exc
    if ctx.session.execute(select(Site.id).where(Site.name == name)).first():
        raise Conflict("site.name_taken", name=name)
    site = Site(name=name, kind=kind, address=address, created_at=ctx.now)
    ctx.session.add(site)
    ctx.session.flush()
    audit.record(ctx, "site.create", "site", site.id, detail={"name": name, "kind": kind.value})
    return site


def get_site(ctx: Ctx, site_id: int, *, with_windows: bool = True) -> Site:
    stmt = select(Site).where(Site.id == site_id)
    if with_windows:  # joined: one round trip for the site and its dozen windows, on every roster
        stmt = stmt.options(joinedload(Site.windows))
    site = ctx.session.execute(stmt).unique().scalar_one_or_none()
    if site is None:
        raise not_found("Site", site_id)
    return site


def list_sites(ctx: Ctx) -> list[Site]:
    return list(ctx.session.execute(select(Site).options(selectinload(Site.windows)).order_by(Site.name)).scalars())


def set_windows(ctx: Ctx, site_id: int, specs: list[WindowSpec]) -> Site:
    """Replace the site's weekly windows; overlapping windows for the same drug are refused."""
    ctx.require(Role.ADMIN)
    get_site(ctx, site_id, with_windows=False)
    for spec in specs:
        if not 0 <= spec.weekday <= 6:
            raise InvalidInput("site.weekday_invalid", weekday=spec.weekday)
        if spec.start >= spec.end:
            raise InvalidInput("site.window_ends_before_start", start=f"{spec.start:%H:%M}", end=f"{spec.end:%H:%M}")
    for i, a in enumerate(specs):
        for b in specs[i + 1 :]:
            shared = a.drugs is None or b.drugs is None or set(a.drugs) & set(b.drugs)
            if a.weekday == b.weekday and shared and a.start < b.end and b.start < a.end:
                raise InvalidInput(
                    "site.windows_overlap",
                    weekday=a.weekday,
                    start=f"{a.start:%H:%M}",
                    end=f"{a.end:%H:%M}",
                    start2=f"{b.start:%H:%M}",
                    end2=f"{b.end:%H:%M}",
                )
    ctx.session.execute(delete(DispensingWindow).where(DispensingWindow.site_id == site_id))
    for spec in specs:
        ctx.session.add(
            DispensingWindow(
                site_id=site_id,
                weekday=spec.weekday,
                start=spec.start,
                end=spec.end,
                drugs=",".join(sorted(d.value for d in spec.drugs)) if spec.drugs else None,
            )
        )
    ctx.session.flush()
    audit.record(
        ctx,
        "site.windows",
        "site",
        site_id,
        detail={
            "windows": [
                {
                    "weekday": s.weekday,
                    "start": s.start.strftime("%H:%M"),
                    "end": s.end.strftime("%H:%M"),
                    "drugs": [d.value for d in s.drugs] if s.drugs else None,
                }
                for s in specs
            ]
        },
    )
    ctx.session.expire_all()
    return get_site(ctx, site_id)
