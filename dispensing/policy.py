"""Clinic policy: the numbers DOMAIN.md marks *(policy)*, with their defaults.

The consultant doctor can change them (stored in the database, see
services/policy.py); nothing else in the code hard-codes these numbers.
"""

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class Policy(BaseModel):
    """Each number has a clinical ceiling (issue 16): a typo such as a 1e9 mg first dose is refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Rule 2: methadone titration
    methadone_first_dose_max_mg: Decimal = Field(Decimal("30"), ge=0, le=200)
    methadone_step_max_mg: Decimal = Field(Decimal("10"), ge=0, le=100)
    methadone_weekly_increase_max_mg: Decimal = Field(Decimal("20"), ge=0, le=200)
    methadone_restart_max_mg: Decimal = Field(Decimal("30"), ge=0, le=200)

    # Rule 3: breathalyser (promille). A reading above the threshold withholds.
    disulfiram_breath_threshold: Decimal = Field(Decimal("0.00"), ge=0, le=2)
    opioid_breath_threshold: Decimal = Field(Decimal("0.50"), ge=0, le=2)
    opioid_breath_required: StrictBool = False

    # Rule 4: consecutive missed opioid days
    missed_days_block: int = Field(3, ge=1, le=30)
    missed_days_restart_limit: int = Field(4, ge=1, le=30)
    missed_days_new_start: int = Field(5, ge=1, le=60)

    # Rule 5: take-home
    take_home_max_days: int = Field(14, ge=1, le=60)

    # Rule 6: how many days ahead the clinic may prepare doses for an external site
    prepare_ahead_days: int = Field(7, ge=0, le=14)

    # Rule 17: the doctor's desk lists closed days' doses without a cover this many days ahead
    closure_plan_days_ahead: int = Field(14, ge=1, le=60)

    # Campral: the centre hands out the first month, then a prescription
    acamprosate_clinic_supply_days: int = Field(30, ge=0, le=90)

    # Rule 7: urine tests (days)
    urine_max_gap_days: int = Field(92, ge=7, le=366)
    urine_min_gap_days: int = Field(14, ge=1, le=366)

    # Rule 9 and 10
    consultation_interval_days: int = Field(183, ge=1, le=731)
    treatment_guarantee_days: int = Field(14, ge=1, le=90)

    # Rule 16: a stock count that differs from the ledger by more than this alerts the doctor and the admin
    stock_count_tolerance_tablets: Decimal = Field(Decimal("0"), ge=0)
    stock_count_tolerance_solution_percent: Decimal = Field(Decimal("1"), ge=0, le=100)


DEFAULT_POLICY = Policy()
