"""Label test factories and the check for the Debian tools the end-to-end tests need."""

import os
import shutil
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dispensing.labels import LabelClaims, LabelData, sign_label

SIGNING_KEY = Ed25519PrivateKey.generate()
FIRST_DAY = date(2025, 3, 3)


def require(present: bool, message: str) -> None:
    """Something the test needs from the machine: missing fails on CI and skips locally."""
    if not present:
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def require_tool(name: str) -> str:
    """Path of a command-line tool the test runs (Debian: poppler-utils, zbar-tools)."""
    path = shutil.which(name)
    require(path is not None, f"{name} is not installed (apt-get install poppler-utils zbar-tools)")
    return path


def make_label(
    *,
    dispense_id: int = 123,
    copy_no: int = 1,
    copies: int = 2,
    days: int = 7,
    drug: str = "methadone",
    site_id: int = 4,
    **overrides,
) -> LabelData:
    """A realistic signed label; keyword arguments override any LabelData field."""
    covers = tuple(FIRST_DAY + timedelta(days=i) for i in range(days))
    if drug == "methadone":
        product = dict(
            drug_name="Metadon",
            product="Metadon DAK oral opløsning 1 mg/ml",
            strength="1 mg/ml",
            form="oral opløsning",
            dose_mg=Decimal("80"),
            dose_ml=Decimal("80"),
            total_mg=Decimal("80") * days,
            total_ml=Decimal("80") * days,
        )
    else:
        product = dict(
            drug_name="Buprenorphin",
            product="Subutex resoribletter 2 mg",
            strength="2 mg",
            form="resoribletter",
            dose_mg=Decimal("2.5"),
            dose_ml=None,
            total_mg=Decimal("2.5") * days,
            total_ml=None,
        )
    product.update({k: overrides.pop(k) for k in list(overrides) if k in product})
    claims = LabelClaims(
        dispense_id=dispense_id,
        copy_no=copy_no,
        drug=drug,
        dose_mg=product["dose_mg"],
        first_day=covers[0],
        last_day=covers[-1],
        site_id=site_id,
    )
    label = LabelData(
        dispense_id=dispense_id,
        dispense_number=f"U-{dispense_id:06d}",
        copy_no=copy_no,
        copies=copies,
        patient_name="Søren Ærbø Åkjær",
        patient_cpr="010180-1234",
        drug=drug,
        covers=covers,
        site_name="Apoteket Nørrebro",
        prescriber="Overlæge Åse Møller",
        dispensed_by="Sygeplejerske Bjørn Lærke",
        dispensed_on=FIRST_DAY,
        token=sign_label(claims, SIGNING_KEY),
        **product,
    )
    return replace(label, **overrides)


def claims_of(label: LabelData, site_id: int = 4) -> LabelClaims:
    """The claims make_label signed into the label's token."""
    return LabelClaims(
        dispense_id=label.dispense_id,
        copy_no=label.copy_no,
        drug=label.drug,
        dose_mg=label.dose_mg,
        first_day=min(label.covers),
        last_day=max(label.covers),
        site_id=site_id,
    )
