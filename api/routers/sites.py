"""Sites and their weekly dispensing windows."""

from fastapi import APIRouter

from api.deps import CtxDep
from api.schemas import SiteCreate, SiteRead, WindowIn, WindowRead
from dispensing.models import Site
from dispensing.services import sites as svc

router = APIRouter(tags=["sites"])


def site_read(site: Site) -> SiteRead:
    return SiteRead(
        id=site.id,
        name=site.name,
        kind=site.kind,
        address=site.address,
        danish_public_holidays=site.danish_public_holidays,
        windows=[
            WindowRead(weekday=w.weekday, start=w.start, end=w.end, drugs=w.drugs.split(",") if w.drugs else None)
            for w in site.windows
        ],
    )


@router.post("/sites", status_code=201, response_model=SiteRead)
def create_site(body: SiteCreate, ctx: CtxDep):
    site = svc.create_site(ctx, name=body.name, kind=body.kind, address=body.address)
    return SiteRead(id=site.id, name=site.name, kind=site.kind, address=site.address, windows=[])


@router.put("/sites/{site_id}/windows", response_model=SiteRead)
def set_windows(site_id: int, body: list[WindowIn], ctx: CtxDep):
    specs = [svc.WindowSpec(w.weekday, w.start, w.end, tuple(w.drugs) if w.drugs else None) for w in body]
    return site_read(svc.set_windows(ctx, site_id, specs))


@router.get("/sites", response_model=list[SiteRead])
def list_sites(ctx: CtxDep):
    return [site_read(s) for s in svc.list_sites(ctx)]


@router.get("/sites/{site_id}", response_model=SiteRead)
def get_site(site_id: int, ctx: CtxDep):
    return site_read(svc.get_site(ctx, site_id))
