"""Every word the web UI shows, in one place: English message ids -> Danish.

Templates call `_("Log in")`; a missing id is shown as-is and remembered in MISSING (a test renders
every page and asserts nothing is missing). A second language is a second dict. Refusals from the
services (English rule messages) get a plain Danish sentence from `danish_error`, by exception type
and key phrases; the service's own message is shown under it.
"""

import re
from datetime import date, datetime
from decimal import Decimal

from dispensing import messages
from dispensing.catalogue import CATALOGUE
from dispensing.enums import Drug
from dispensing.errors import Conflict, DispensingError, Forbidden, InvalidInput, NotAuthenticated, NotFound

MISSING: set[str] = set()

DA: dict[str, str] = {
    # frame
    "Dispensing": "Medicinudlevering",
    "Skip to content": "Spring til indhold",
    "Logged in as": "Logget ind som",
    "Log out": "Log ud",
    "Main menu": "Hovedmenu",
    "Window": "Udlevering",
    "Doctor's desk": "Lægens skrivebord",
    "Patients": "Patienter",
    "Pickup site": "Udleveringssted",
    "Role": "Rolle",
    "role.nurse": "Sygeplejerske",
    "role.doctor": "Læge",
    "role.admin": "Administrator",
    "role.site_staff": "Udleveringssted",
    # login
    "Log in": "Log ind",
    "Username": "Brugernavn",
    "Password": "Adgangskode",
    "You were logged out after {minutes} minutes without activity. Log in again.": "Du blev logget ud efter {minutes} minutter uden aktivitet. Log ind igen.",
    "Your login has expired. Log in again.": "Dit login er udløbet. Log ind igen.",
    "You are logged out.": "Du er logget ud.",
    "Log in to continue.": "Log ind for at fortsætte.",
    "Wrong username or password.": "Forkert brugernavn eller adgangskode.",
    # roster
    "Roster": "Dagens liste",
    "Site": "Sted",
    "Date": "Dato",
    "Show": "Vis",
    "Search": "Søg",
    "Name or last digits of the CPR number": "Navn eller de sidste cifre i CPR-nummeret",
    "Clear search": "Ryd søgning",
    "Patient": "Patient",
    "CPR": "CPR",
    "Drug": "Præparat",
    "Dose": "Dosis",
    "Time window": "Tidsrum",
    "Status": "Status",
    "Notes": "Bemærkninger",
    "Open": "Åbn",
    "{n} patients due, {done} handled": "Doser: {n} · håndteret: {done}",
    "{shown} of {n} shown (search: \u201c{q}\u201d)": "{shown} af {n} vist (søgning: \u201c{q}\u201d)",
    "Nobody is due at this site on this date.": "Ingen doser på dette sted denne dato.",
    "No patient matches the search.": "Ingen patient passer til søgningen.",
    "Breathalyser": "Alkometer",
    "Urine sample today": "Urinprøve i dag",
    "{n} missed days": "{n} dage udeblevet",
    "1 missed day": "1 dag udeblevet",
    "Blocked": "Blokeret",
    "Sanction": "Sanktion",
    "Take-home {n} d": "Hjemmedoser {n} d",
    "Not today": "Ikke i dag",
    "Print all labels for this site and date": "Udskriv alle etiketter til stedet og datoen",
    # slot / dispense
    "Back to the roster": "Tilbage til listen",
    "Dispense": "Udlever",
    "Breath alcohol (‰)": "Alkometer (‰)",
    "Required before this dose. Write e.g. 0,00.": "Kræves før denne dosis. Skriv fx 0,00.",
    "Optional for this drug.": "Frivillig for dette præparat.",
    "Limit: above {limit} ‰ the dose is withheld.": "Grænse: over {limit} ‰ tilbageholdes dosis.",
    "Supervised intake (I watched the patient take the dose)": "Overvåget indtagelse (jeg så patienten tage dosis)",
    "The order requires supervised intake.": "Ordinationen kræver overvåget indtagelse.",
    "Take-home days": "Hjemmedoser (dage)",
    "0 to {n}: the days until the next pickup day ({days}).": "0 til {n}: dagene til næste afhentningsdag ({days}).",
    "No take-home doses today.": "Ingen hjemmedoser i dag.",
    "No take-home while the sanction is in force.": "Ingen hjemmedoser, mens sanktionen er i kraft.",
    "No-show": "Udeblevet",
    "Record no-show": "Registrér udeblivelse",
    "The patient did not come today.": "Patienten kom ikke i dag.",
    "Dose to hand out": "Dosis der skal udleveres",
    "Order": "Ordination",
    "signed by {name}": "underskrevet af {name}",
    "Supervised": "Overvåget",
    "Take-home": "Hjemmedosis",
    "Windows": "Tidsrum",
    "Missed days in a row": "Udeblevne dage i træk",
    "Sanctions in force": "Sanktioner i kraft",
    "Dispensed": "Udleveret",
    "Dose withheld": "Dosis tilbageholdt",
    "Handed out {when} by {who}.": "Udleveret {when} af {who}.",
    "Covers": "Dækker",
    "Total": "I alt",
    "Print label": "Udskriv etiket",
    "Print labels": "Udskriv etiketter",
    "Labels (PDF) open in a new tab: print them and stick one on each bottle.": "Etiketterne (PDF) åbnes i en ny fane: udskriv dem og sæt én på hver flaske.",
    "Nothing leaves the clinic: no label.": "Intet forlader klinikken: ingen etiket.",
    "The dose was handed out.": "Dosis er udleveret.",
    "Recorded: the patient did not come.": "Registreret: patienten kom ikke.",
    "This dose is not due: {status}.": "Denne dosis afventer ikke: {status}.",
    "Prepare for the pickup site": "Klargør til udleveringsstedet",
    "Prepare": "Klargør",
    "This dose is handed out at {site}: prepare it here with labels, the site hands it out.": "Denne dosis udleveres på {site}: klargør den her med etiketter, stedet udleverer den.",
    "Prepared for the pickup site.": "Klargjort til udleveringsstedet.",
    "Withheld reason": "Begrundelse",
    "Other records": "Andre registreringer",
    "Urine sample": "Urinprøve",
    "A urine sample is due today (unannounced).": "Der skal tages urinprøve i dag (uanmeldt).",
    "Result": "Resultat",
    "not tested": "ikke testet",
    "negative": "negativ",
    "positive": "positiv",
    "Collected today": "Taget i dag",
    "The patient refused": "Patienten nægtede",
    "Not possible today (stays due)": "Ikke muligt i dag (forbliver udestående)",
    "What happened": "Hvad skete der",
    "Reason (required when not possible)": "Begrundelse (kræves hvis ikke muligt)",
    "Record urine sample": "Registrér urinprøve",
    "Urine sample recorded.": "Urinprøven er registreret.",
    "Breach of the cooperation agreement": "Brud på samarbejdsaftalen",
    "Kind": "Art",
    "Occurred on": "Dato for bruddet",
    "Note": "Note",
    "Record breach": "Registrér brud",
    "Breach recorded: the doctor will decide at the treatment meeting.": "Bruddet er registreret: lægen tager stilling på behandlingskonferencen.",
    "Patient record": "Patientjournal",
    # dispense result
    "Dispense {number}": "Udlevering {number}",
    "Supervised intake": "Overvåget indtagelse",
    "yes": "ja",
    "no": "nej",
    # doctor
    "Drafts to sign": "Kladder til underskrift",
    "No drafts wait for a signature.": "Ingen kladder venter på underskrift.",
    "Sign": "Underskriv",
    "Re-enter your password to sign": "Gentag din adgangskode for at underskrive",
    "Order {id} signed.": "Ordination {id} er underskrevet.",
    "Flags to review": "Til gennemsyn",
    "Nothing to review.": "Intet at gennemse.",
    "Decision / note": "Beslutning / note",
    "Mark reviewed": "Markér som gennemset",
    "Release the block": "Ophæv blokering",
    "Reviewed.": "Gennemset.",
    "Block released: the next dose may be given.": "Blokeringen er ophævet: næste dosis må gives.",
    "Breaches without a decision": "Brud uden beslutning",
    "No breach waits for a decision.": "Ingen brud venter på beslutning.",
    "Decide: no sanction": "Beslut: ingen sanktion",
    "Decided without a sanction.": "Besluttet uden sanktion.",
    "recorded automatically": "registreret automatisk",
    "Sanctions due for review": "Sanktioner til revurdering",
    "No sanction is due for review.": "Ingen sanktioner skal revurderes.",
    "review {date}": "revurderes {date}",
    "Last day in force": "Sidste dag i kraft",
    "Lift sanction": "Ophæv sanktion",
    "Sanction lifted.": "Sanktionen er ophævet.",
    "Consultation recorded.": "Lægesamtalen er registreret.",
    "Held on": "Holdt den",
    "New treatment plan": "Ny behandlingsplan",
    "Record consultation": "Registrér lægesamtale",
    "Doctor's consultations due (6 months)": "Lægesamtaler der skal holdes (6 måneder)",
    "No consultation is due.": "Ingen lægesamtaler skal holdes.",
    "due {date}": "senest {date}",
    "never held": "aldrig holdt",
    "last {date}": "sidst {date}",
    "kind.withheld_dose": "Tilbageholdt dosis",
    "kind.missed_dose_block": "Blokeret efter udeblivelse",
    # --- the contingency sheet and paper records entered afterwards ---
    "kind.paper_record_refused": "Papirregistrering afvist",
    "Entered afterwards": "Registreret efterfølgende",
    "Print the contingency sheet (for when the system is down)": "Udskriv nødliste (til når systemet er nede)",
    "From the paper sheet, entered {when}.": "Fra nødlisten, indtastet {when}.",
    "Entered afterwards from the paper sheet today": "Registreret efterfølgende fra nødlisten i dag",
    "Given": "Udleveret",
    "Entered": "Indtastet",
    "Entered by": "Indtastet af",
    "Nothing was entered afterwards today.": "Intet er registreret efterfølgende i dag.",
    "A paper record the rules refused is among the flags to review.": (
        "En papirregistrering, som reglerne afviste, står blandt advarslerne til gennemsyn."
    ),
    "kind.positive_urine": "Positiv urinprøve",
    "Created": "Oprettet",
    "Message": "Besked",
    # orders
    "New order": "Ny ordination",
    "Revise": "Revidér",
    "Revise order {id}": "Revidér ordination {id}",
    "Choose the drug": "Vælg præparat",
    "Continue": "Fortsæt",
    "Product": "Produkt",
    "Dose per intake (mg)": "Dosis pr. indtagelse (mg)",
    "Titration limits (clinic policy)": "Titreringsgrænser (klinikkens politik)",
    "First day: at most {mg} mg": "Første dag: højst {mg} mg",
    "Each increase: at most {mg} mg": "Hver stigning: højst {mg} mg",
    "Within 7 days: at most {mg} mg more": "Inden for 7 dage: højst {mg} mg mere",
    "Restart after missed days: at most {mg} mg": "Genstart efter udeblivelse: højst {mg} mg",
    "Above a limit you must give an override reason.": "Over en grænse skal du angive en begrundelse.",
    "Current dose: {mg} mg (from {date}).": "Nuværende dosis: {mg} mg (fra {date}).",
    "The dose must be a multiple of {step} mg; at most {max} mg per dose.": "Dosis skal gå op i {step} mg; højst {max} mg pr. dosis.",
    "Due weekdays": "Doseringsdage",
    "Pickup weekdays (the others are take-home)": "Afhentningsdage (de øvrige er hjemmedoser)",
    "Supervised intake required": "Overvåget indtagelse krævet",
    "Start date": "Startdato",
    "Effective from": "Gælder fra",
    "End or review date (optional)": "Slut- eller revisionsdato (valgfri)",
    "Indication": "Indikation",
    "Override reason (only to exceed a titration limit)": "Begrundelse for overskridelse (kun for at overskride en titreringsgrænse)",
    "Reason for the change": "Begrundelse for ændringen",
    "Check against the limits": "Kontrollér mod grænserne",
    "Create draft": "Opret kladde",
    "Within the limits: nothing refused.": "Inden for grænserne: intet afvist.",
    "The draft was created: it is active once signed.": "Kladden er oprettet: den gælder, når den er underskrevet.",
    "Orders": "Ordinationer",
    "No orders.": "Ingen ordinationer.",
    "Version": "Version",
    "From": "Fra",
    "To": "Til",
    "Sign it on the doctor's desk.": "Underskriv den på lægens skrivebord.",
    "status.draft": "Kladde",
    "status.active": "Aktiv",
    "status.superseded": "Erstattet",
    "status.discontinued": "Seponeret",
    "Find a patient": "Find en patient",
    "Name or CPR digits": "Navn eller CPR-cifre",
    "No patient found.": "Ingen patient fundet.",
    "Born": "Født",
    # site staff
    "Doses for {site}": "Doser til {site}",
    "Nothing is prepared for this date.": "Intet er klargjort til denne dato.",
    "Handed out": "Udleveret",
    "Returned": "Returneret",
    "Return reason": "Grund til returnering",
    "not collected": "ikke afhentet",
    "Handed out to the patient.": "Udleveret til patienten.",
    "Returned to the clinic.": "Returneret til klinikken.",
    "Dispense no.": "Udleveringsnr.",
    # errors
    "Refused": "Afvist",
    "The rule (from the system)": "Reglen (fra systemet)",
    "No access": "Ingen adgang",
    "Not found": "Findes ikke",
    "The form has expired or was not sent from this page (security check). Nothing was changed: go back, "
    "reload the page and try again.": "Formularen er udløbet eller blev ikke sendt fra denne side (sikkerhedstjek). Intet er ændret: gå tilbage, "
    "genindlæs siden og prøv igen.",
    "Go to the start page": "Gå til forsiden",
    "Something went wrong": "Noget gik galt",
    # --- Corrections at the window (issue 15) ---
    "Re-open the dose": "Genåbn dosen",
    "Re-open the dose today?": "Genåbn dosen i dag?",
    "The patient came back (e.g. sober) or the dose was spilt: the dose is due again today; the nurse dispenses it "
    "with a new breath reading.": "Patienten er kommet igen (f.eks. ædru), eller dosen er spildt: dosen kan udleveres "
    "igen i dag, med en ny alkometertest.",
    "Reason (kept in the record)": "Begrundelse",
    "Re-opened: the dose is due again today.": "Genåbnet: dosen kan udleveres igen i dag.",
    "Undo no-show": "Fortryd udeblivelse",
    "Undo the no-show?": "Fortryd udeblivelsen?",
    "The patient came after all: the dose is due again.": "Patienten kom alligevel: dosen kan udleveres igen.",
    "No-show undone: the dose is due again.": "Udeblivelsen er fortrudt: dosen kan udleveres igen.",
    "Reason (required while the patient's window today has not ended, e.g. called off)": "Begrundelse (påkrævet, "
    "mens patientens udleveringstid i dag ikke er slut, f.eks. meldt afbud)",
    "Outside the dispensing times": "Uden for udleveringstid",
    "Reason for dispensing outside the dispensing times (e.g. late bus, agreed by phone)": "Begrundelse for "
    "udlevering uden for udleveringstid (f.eks. forsinket bus, aftalt i telefonen)",
    "The doctor sees the reason.": "Lægen ser begrundelsen.",
    "Doses handed out outside the dispensing times ({n} days)": "Doser udleveret uden for udleveringstid ({n} dage)",
    "No dose was handed out outside the dispensing times.": "Ingen doser er udleveret uden for udleveringstid.",
    "by {name}": "af {name}",
    "Sign despite a warning": "Underskriv trods advarsel",
    "Reason: no dispensing time on some pickup weekdays": "Begrundelse: ingen udleveringstid på nogle afhentningsdage",
    "Reason: planned switch between opioids": "Begrundelse: planlagt skift mellem opioider",
    # calendar: closed days, closure plan, dose steps (rules 17-18)
    "Closed days": "Lukkedage",
    "Closed on Danish public holidays": "Lukket på danske helligdage",
    "Open on Danish public holidays": "Åbent på danske helligdage",
    "closure.holiday": "Helligdag",
    "closure.added": "Lukket af administrator",
    "No closed days in this period.": "Ingen lukkedage i perioden.",
    "Save": "Gem",
    "Days the site closes besides the holidays": "Dage stedet holder lukket ud over helligdagene",
    "One day per line: the date and the reason, e.g. 2026-12-28 Staff day": "Én dag pr. linje: datoen og begrundelsen, f.eks. 2026-12-28 Personaledag",
    "Save the closed days": "Gem lukkedagene",
    "Closure plan": "Lukkeplan",
    "Cover": "Dækning",
    "Taken home (handed out)": "Hjemmedosis (udleveret)",
    "Take-home, handed out on {day}": "Hjemmedosis, udleveres {day}",
    "Moved to {site}": "Flyttet til {site}",
    "handed out": "udleveret",
    "Unresolved": "Uafklaret",
    "unresolved.supervised_only": "Kun superviseret indtagelse: lægen beslutter (flyt dosen til et åbent sted, eller ret ordinationen).",
    "unresolved.antabus": "Antabus gives kun superviseret: lægen beslutter.",
    "unresolved.no_take_home_sanction": "En sanktion udelukker hjemmedosis: lægen beslutter.",
    "unresolved.span_too_long": "Hjemmedosis ville række ud over det længste tilladte spænd: lægen beslutter.",
    "unresolved.no_open_day_before": "Der er ingen åben dag før lukkedagen at udlevere på: lægen beslutter.",
    "Move to": "Flyt til",
    "Move the dose": "Flyt dosen",
    "No doses fall on a closed day in this period.": "Ingen doser falder på en lukkedag i perioden.",
    "The closed days were saved.": "Lukkedagene er gemt.",
    "The holiday rule was saved.": "Helligdagsreglen er gemt.",
    "The dose was moved to the open clinic for that day.": "Dosen er flyttet til den åbne klinik den dag.",
    "Closed days: doses without a cover (next {n} days)": "Lukkedage: doser uden dækning (de næste {n} dage)",
    "is closed": "har lukket",
    "Decide in the closure plan": "Beslut i lukkeplanen",
    "Every dose on a closed day is covered.": "Alle doser på lukkedage er dækket.",
    "Closed today": "Lukket i dag",
    "No doses are handed out at the window; see the closure plan.": "Der udleveres ikke doser i lugen; se lukkeplanen.",
    "Dose steps": "Dosistrin",
    "supervised": "superviseret",
    "take-home": "hjemmedosis",
    "at": "kl.",
    "Part": "Del",
    "Split dose (parts, optional)": "Delt dosis (dele, valgfrit)",
    "One part per line: time, dose and S (supervised) or H (take-home), e.g. 08:00 40 S; the parts add up to the day's dose": "Én del pr. linje: tidspunkt, dosis og S (superviseret) eller H (hjemmedosis), f.eks. 08:00 40 S; delene giver tilsammen dagens dosis",
    "Dose steps (taper or build-up, optional)": "Dosistrin (nedtrapning eller optrapning, valgfrit)",
    "One step per line: the date it begins and the day's dose, e.g. 2026-12-14 55": "Ét trin pr. linje: datoen det begynder og dagens dosis, f.eks. 2026-12-14 55",
    # --- Stock of controlled drugs (rule 16) ---
    "Stock": "Lager",
    "Controlled-drug stock at {site}": "Lager af euforiserende stoffer på {site}",
    "Clinic": "Klinik",
    "Balances": "Beholdninger",
    "Balance": "Beholdning",
    "Last count": "Seneste optælling",
    "Ledger": "Regnskab",
    "below zero: count and receive stock": "under nul: optæl og modtag varer",
    "counted {counted}, expected {expected}": "optalt {counted}, forventet {expected}",
    "never counted": "aldrig optalt",
    "No controlled-drug stock recorded at this clinic yet.": "Der er endnu ikke registreret lager af euforiserende stoffer på denne klinik.",
    "Monthly ledger (PDF) for the inspector": "Månedsregnskab (PDF) til embedsapotekeren",
    "Receive stock": "Modtag varer",
    "Quantity (ml or tablets)": "Mængde (ml eller tabletter)",
    "Batch": "Batchnummer",
    "Expiry date": "Udløbsdato",
    "Supplier": "Leverandør",
    "Receive": "Modtag",
    "Witness (a second person re-enters their password)": "Vidne (en anden person indtaster sin adgangskode)",
    "Witness username": "Vidnets brugernavn",
    "Witness password": "Vidnets adgangskode",
    "Count": "Optælling",
    "Counted (ml or tablets)": "Optalt (ml eller tabletter)",
    "Record count": "Registrér optælling",
    "Waste": "Kassation",
    "Reason": "Årsag",
    "Record waste": "Registrér kassation",
    "Correction (counter-entry)": "Korrektion (modpostering)",
    "A count never changes the balance by itself: correct it here with a reason. Entries are never changed.": "En optælling ændrer aldrig beholdningen af sig selv: korriger den her med en begrundelse. Posteringer ændres aldrig.",
    "Quantity (+ adds, − takes off)": "Mængde (+ lægger til, − trækker fra)",
    "Record correction": "Registrér korrektion",
    "Stock received.": "Varerne er modtaget.",
    "Waste recorded.": "Kassationen er registreret.",
    "Correction recorded.": "Korrektionen er registreret.",
    "Counted {counted}, expected {expected}: difference {difference}.": "Optalt {counted}, forventet {expected}: difference {difference}.",
    "Beyond the tolerance: the doctor and the admin are alerted.": "Uden for tolerancen: lægen og administratoren er underrettet.",
    "Time": "Tidspunkt",
    "Movement": "Bevægelse",
    "In": "Ind",
    "Out": "Ud",
    "By": "Udført af",
    "Witness": "Vidne",
    "Reference": "Reference",
    "Opening balance": "Primo",
    "Back to the stock": "Tilbage til lageret",
    "Controlled-drug stock: count differences and negative balances": "Lager: optællingsdifferencer og negative beholdninger",
    "No stock alert.": "Ingen lageradvarsler.",
    "Alert reviewed.": "Advarslen er gennemgået.",
    "kind.stock_negative": "Negativ beholdning",
    "kind.stock_count_difference": "Optællingsdifference",
}

STATUS = {
    "due": "Afventer",
    "prepared": "Klargjort til udleveringssted",
    "dispensed": "Udleveret",
    "withheld": "Tilbageholdt",
    "missed": "Udeblevet",
    "covered": "Dækket af hjemmedosis",
    "cancelled": "Annulleret",
    "returned": "Returneret",
    "void": "Annulleret",
}
SANCTION_STEP = {
    "daily_pickup": "Daglig afhentning (ingen hjemmedoser)",
    "police_pickup": "Afhentning på politistation",
    "termination": "Behandling afsluttet i kommunen",
}
BREACH_KIND = {
    "missed_pickups": "Udeblevet fra afhentninger",
    "threats_or_violence": "Trusler eller vold",
    "sale_or_handover": "Salg eller videregivelse af medicin",
    "side_abuse": "Sidemisbrug",
    "refused_urine_sample": "Nægtet urinprøve",
    "other": "Andet",
}
URINE_PANEL = {
    "opioids": "Opiater (morfin, heroin, kodein)",
    "methadone": "Metadon",
    "buprenorphine": "Buprenorphin",
    "benzodiazepines": "Benzodiazepiner",
    "cannabis": "Cannabis",
    "cocaine": "Kokain",
    "amphetamine": "Amfetamin",
    "alcohol_etg": "Alkohol (EtG)",
}
WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
WEEKDAYS_SHORT = ("man", "tir", "ons", "tor", "fre", "lør", "søn")
MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


def gettext(msgid: str, **values) -> str:
    text = DA.get(msgid)
    if text is None:
        MISSING.add(msgid)
        text = msgid
    return text.format(**values) if values else text


def drug_name(drug: Drug | str) -> str:
    return CATALOGUE[Drug(drug)].name


def mg(value: Decimal | None) -> str:
    """30 -> "30", 2.50 -> "2,5" (Danish decimal comma)."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f").replace(".", ",")


def promille(value: Decimal) -> str:
    """0.5 -> "0,50" (breathalyser readings have two decimals)."""
    return f"{Decimal(value):.2f}".replace(".", ",")


def day(value: date | None, *, weekday: bool = False) -> str:
    """2026-03-02 -> "2. marts 2026" (with weekday: "mandag 2. marts 2026")."""
    if value is None:
        return ""
    text = f"{value.day}. {MONTHS[value.month - 1]} {value.year}"
    return f"{WEEKDAYS[value.weekday()]} {text}" if weekday else text


def short_day(value: date) -> str:
    return f"{WEEKDAYS_SHORT[value.weekday()]} {value.day}/{value.month}"


def clock_time(value: datetime | None, tz) -> str:
    return value.astimezone(tz).strftime("%H:%M") if value else ""


# --- refusals in plain Danish ---------------------------------------------------------------------

_NUM = r"([0-9]+(?:\.[0-9]+)?)"


def _comma(text: str) -> str:
    return text.replace(".", ",")


def _breath_withheld(m: re.Match) -> str:
    reading, limit = _comma(m.group(1)), _comma(m.group(3))
    if m.group(2) == "disulfiram limit":
        return (
            f"Alkometeret viser {reading} ‰, over grænsen for Antabus ({limit} ‰). Dosis er tilbageholdt, "
            "og lægen har fået besked. Giv ikke Antabus i dag."
        )
    return (
        f"Alkometeret viser {reading} ‰, over klinikkens grænse ({limit} ‰). Dosis er tilbageholdt: "
        "tal med lægen, før der gives nogen dosis."
    )


def _blocked(m: re.Match) -> str:
    text = (
        f"Blokeret: {m.group(1)} dage i træk uden dosis. Dosis må ikke udleveres, før en læge har vurderet patienten."
    )
    rest = m.string
    restart = re.search(r"restart at most " + _NUM + " mg", rest)
    if restart:
        text += f" Genstart højst {_comma(restart.group(1))} mg."
    if "new start" in rest:
        text += " Behandles som ny opstart."
    return text


def _take_home_over(m: re.Match) -> str:
    return (
        f"For mange hjemmedoser: ordinationen tillader højst {m.group(2)} dag(e) med hjem i dag "
        f"(du valgte {m.group(1)}). Vælg højst {m.group(2)}."
    )


_SLOT_STATE = {
    "already dispensed": "allerede udleveret",
    "already covered by a take-home dose": "allerede dækket af en hjemmedosis",
    "withheld earlier today": "tilbageholdt tidligere i dag",
    "recorded as missed": "registreret som udeblevet",
    "cancelled (no order in force)": "annulleret (ingen gældende ordination)",
    "already prepared for the pickup site": "allerede klargjort til udleveringsstedet",
}


def _not_due(m: re.Match) -> str:
    state = _SLOT_STATE.get(m.group(1), m.group(1))
    return f"Dosis er {state}: der er intet at udlevere. Genindlæs listen."


# (pattern, Danish text or function of the match), first match wins. Common refusals at the window first.
RULES: list[tuple[str, object]] = [
    (r"Breath alcohol " + _NUM + r" ‰ is above the (disulfiram limit|clinic limit) of " + _NUM, _breath_withheld),
    (
        r"A breathalyser reading is required",
        "Alkometertest mangler: tag en alkometertest og skriv resultatet, før dosis udleveres.",
    ),
    (r"Breath reading", "Ugyldig alkometerværdi: skriv promille som vist på alkometeret, fx 0,00 eller 0,25."),
    (r"([0-9]+) consecutive missed days?: dose blocked", _blocked),
    (r"take_home_days ([0-9]+) is more than allowed: order [0-9]+ allows ([0-9]+)", _take_home_over),
    (
        r"No take-home while the",
        "Ingen hjemmedoser, mens sanktionen er i kraft: udlever kun dagens dosis (hjemmedoser 0).",
    ),
    (r"take_home_days cannot be negative", "Antal hjemmedoser kan ikke være negativt."),
    (r"Take-home day \S+ is", "En af hjemmedoserne er allerede håndteret: vælg færre hjemmedoser."),
    (
        r"is (already dispensed|already covered by a take-home dose|withheld earlier today|recorded as missed|"
        r"cancelled \(no order in force\)|already prepared for the pickup site): nothing to hand out",
        _not_due,
    ),
    (r"was handled by another request just now", "En anden har netop håndteret denne dosis: genindlæs listen."),
    (
        r"requires supervised intake",
        "Overvåget indtagelse er krævet: se patienten tage dosis, og sæt kryds i \u201cOvervåget indtagelse\u201d.",
    ),
    (
        r"does not match its signature",
        "Ordinationen stemmer ikke med sin underskrift (ændret efter underskrift): "
        "udlever intet, og kontakt lægen og administratoren.",
    ),
    (r"is not in force on", "Der er ingen gældende, underskrevet ordination til denne dag: kontakt lægen."),
    (r"a dose is handed out only on its own day", "En dosis udleveres kun på sin egen dag: åbn dagens liste."),
    (r"A sanction in force changed where", "En sanktion har flyttet udleveringen til et andet sted: genindlæs listen."),
    (r"no longer handed out here", "Dosis udleveres ikke længere her: genindlæs listen."),
    (r"prepare it for the site", "Denne dosis udleveres på et udleveringssted: klargør den i stedet for at udlevere."),
    (r"has not come: record a no-show on the day", "Udeblivelse registreres først på dagen."),
    (r"Wrong username or password", "Forkert brugernavn eller adgangskode."),
    (r"The password you re-entered is wrong", "Forkert adgangskode: ordinationen er ikke underskrevet."),
    (
        r"right to prescribe addictive medicine",
        "Kun en læge med ret til at ordinere afhængighedsskabende lægemidler (autorisationslovens §41) må underskrive "
        "denne ordination.",
    ),
    (
        r"Methadone (first day|step|7-day increase|restart)",
        "Dosis overskrider metadon-titreringsgrænserne: vælg en lavere dosis, eller skriv en begrundelse for at "
        "overskride dem.",
    ),
    (
        r"cannot be measured out with",
        "Dosis kan ikke afmåles med dette produkt: vælg en dosis, der går op i produktets trin.",
    ),
    (r"above the catalogue's limit", "Dosis er over den højeste tilladte dosis: tjek for en tastefejl."),
    (
        r"Antabus is given supervised",
        "Antabus gives overvåget, én dosis ad gangen efter alkometertest: ingen hjemmedoser.",
    ),
    (r"pickup_weekdays must be days", "Afhentningsdage skal være doseringsdage."),
    (r"must be a non-empty list of weekdays", "Vælg mindst én ugedag."),
    (
        r"is in force for this patient: revise it",
        "Patienten har allerede en gældende ordination på dette præparat: revidér den i stedet.",
    ),
    (r"is in the past", "Datoen ligger i fortiden: vælg i dag eller senere."),
    (
        r"reason is required|note is required|resolution is required|indication is required",
        "Udfyld begrundelsen: feltet er påkrævet.",
    ),
    (r"No urine sample is due today", "Der skal ikke tages urinprøve i dag, så der er intet at nægte eller udsætte."),
    (r"A sample collected on \S+ is already recorded", "Der er allerede registreret en urinprøve fra denne dag."),
    (r"results must give at least one panel item", "Angiv mindst ét resultat (negativ eller positiv)."),
    (
        r"only that site's staff|another pickup site|You work at another site",
        "Denne dosis hører til et andet udleveringssted.",
    ),
    (
        r"hand it out only within that period",
        "Dosis kan kun udleveres i den periode, den dækker: returnér den til klinikken.",
    ),
    (r"not waiting at the site", "Dosis venter ikke på udleveringsstedet: intet at bekræfte."),
]
_COMPILED = [(re.compile(p), r) for p, r in RULES]

GENERIC = [
    (NotAuthenticated, "Du er ikke logget ind."),
    (Forbidden, "Ingen adgang: din rolle må ikke dette."),
    (NotFound, "Findes ikke: genindlæs siden."),
    (Conflict, "Kan ikke gennemføres i den nuværende situation."),
    (InvalidInput, "Ugyldigt input: ret feltet og prøv igen."),
]


def danish_rule(message: str) -> str | None:
    """The plain Danish sentence for a known rule message (also a flag's message), or None."""
    for pattern, text in _COMPILED:
        m = pattern.search(message or "")
        if m:
            return text(m) if callable(text) else text
    return None


def danish_error(exc: DispensingError | str) -> str:
    """A plain Danish sentence for a refusal; the English rule message is shown beside it."""
    if isinstance(exc, DispensingError) and messages.has_text(exc.code, "da") and exc.text("da") != exc.message:
        return exc.text("da")  # a refusal by code: its sentence from the Danish catalogue
    known = danish_rule(exc if isinstance(exc, str) else exc.message)
    if known:
        return known
    if isinstance(exc, DispensingError):
        for cls, text in GENERIC:
            if isinstance(exc, cls):
                return text
    return "Handlingen blev afvist."


def stock_alert_text(alert) -> str:
    """A site alert of the controlled-drug ledger in Danish (from its code and values)."""
    from dispensing.services.stock import alert_text

    return alert_text(alert.code, alert.params or {}, "da") if alert.code else alert.message
