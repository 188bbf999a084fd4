"""Code systems, codes and status mappings of the FHIR export (one place to check them against the issue)."""

from dispensing.enums import Drug, SiteKind
from dispensing.models import DispenseStatus, OrderStatus

FHIR_VERSION = "4.0.1"
MEDIA_TYPE = "application/fhir+json"

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"  # the Danish CPR register
AUTHORISATION_SYSTEM = "https://autregweb.sst.dk"  # autorisations-id (Styrelsen for Patientsikkerhed), as DK Core
ATC_SYSTEM = "http://www.whocc.no/atc"
LOINC_SYSTEM = "http://loinc.org"
SNOMED_SYSTEM = "http://snomed.info/sct"
UCUM_SYSTEM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

ATC: dict[Drug, tuple[str, str]] = {
    Drug.METHADONE: ("N07BC02", "methadone"),
    Drug.BUPRENORPHINE: ("N07BC01", "buprenorphine"),
    Drug.BUPRENORPHINE_NALOXONE: ("N07BC51", "buprenorphine, combinations"),
    Drug.DISULFIRAM: ("N07BB01", "disulfiram"),
    Drug.ACAMPROSATE: ("N07BB03", "acamprosate"),
}

BREATH_ALCOHOL_LOINC = "104133-4"  # ethanol in exhaled gas (DOMAIN.md)

# Urine panel items: the LOINC codes live with the panel (dispensing.services.urine.PANEL); the Danish
# names are what a receiving Danish system shows.
URINE_ITEM_DA = {
    "opioids": "Opioider (morfin, heroin, kodein)",
    "methadone": "Metadon",
    "buprenorphine": "Buprenorphin",
    "benzodiazepines": "Benzodiazepiner",
    "cannabis": "Cannabis",
    "cocaine": "Kokain",
    "amphetamine": "Amfetamin",
    "alcohol_etg": "Alkohol (EtG)",
}
URINE_RESULT = {  # panel result -> (SNOMED CT qualifier, its display, Danish text, v3 interpretation)
    "pos": ("10828004", "Positive", "positiv", "POS"),
    "neg": ("260385009", "Negative", "negativ", "NEG"),
}

# FHIR's dayOfWeek codes, 0 = Monday as in the orders
DAY_OF_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_DA = ("man", "tir", "ons", "tor", "fre", "lør", "søn")

SITE_KIND_DA = {
    SiteKind.CLINIC: "Sundhedsklinik",
    SiteKind.PHARMACY: "Apotek",
    SiteKind.POLICE: "Politistation",
    SiteKind.HOME_NURSING: "Hjemmesygepleje",
}

# MedicationRequest.status (R4: active | on-hold | cancelled | completed | entered-in-error | stopped |
# draft | unknown). The statuses that depend on the day are decided in resources.order_status.
ORDER_STATUS_FIXED = {
    OrderStatus.DRAFT: "draft",
    OrderStatus.WITHDRAWN: "cancelled",  # never signed, never given
}

# MedicationDispense.status (R4: preparation | in-progress | cancelled | on-hold | completed |
# entered-in-error | stopped | declined | unknown). Withheld doses are "declined" (resources.withheld).
DISPENSE_STATUS = {
    DispenseStatus.DISPENSED: "completed",
    DispenseStatus.PREPARED: "in-progress",  # prepared at the clinic, waiting at the pickup site
    DispenseStatus.RETURNED: "cancelled",  # not collected: FHIR's "will never be picked up"
    DispenseStatus.VOID: "entered-in-error",
}
