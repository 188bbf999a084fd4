"""FHIR R4 export (API.md "FHIR R4"): answers are application/fhir+json, built by services.fhir."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import AnonCtxDep, CtxDep
from dispensing.fhir.bundle import to_json
from dispensing.fhir.codes import MEDIA_TYPE
from dispensing.services import fhir as svc

router = APIRouter(prefix="/fhir", tags=["fhir"])

FHIR_RESPONSE = {200: {"content": {MEDIA_TYPE: {}}, "description": "A FHIR R4 resource (JSON)"}}


def _base_url(request: Request) -> str:
    """The FHIR base as the client reached it: fullUrls and the CapabilityStatement point here."""
    return str(request.url_for("fhir_metadata")).removesuffix("/metadata")


def _fhir(resource: dict) -> Response:
    return Response(to_json(resource), media_type=MEDIA_TYPE)


@router.get("/metadata", name="fhir_metadata", response_class=Response, responses=FHIR_RESPONSE)
def metadata(request: Request, ctx: AnonCtxDep):
    """The CapabilityStatement: what this server offers (no login: it holds no patient data)."""
    return _fhir(svc.capability_statement(ctx, base_url=_base_url(request)))


@router.get("/Patient/{patient_id}/$everything", response_class=Response, responses=FHIR_RESPONSE)
def everything(patient_id: int, request: Request, ctx: CtxDep):
    """The patient's whole record as a Bundle (doctor, admin); audited as a read of the record."""
    return _fhir(svc.patient_everything(ctx, patient_id, base_url=_base_url(request)))


@router.get("/MedicationDispense", response_class=Response, responses=FHIR_RESPONSE)
def search_dispenses(
    request: Request,
    ctx: CtxDep,
    patient: Annotated[str | None, Query(description="The patient's id (or Patient/id); required")] = None,
    whenhandedover: Annotated[list[str], Query(description="e.g. ge2026-12-01 (repeatable)")] = [],  # noqa: B006
):
    """A patient's dispenses (handed out, prepared, returned, void, withheld) as a searchset Bundle."""
    return _fhir(svc.search_dispenses(ctx, patient=patient, whenhandedover=whenhandedover, base_url=_base_url(request)))
