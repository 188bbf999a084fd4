"""The drug catalogue: products the centre stocks, with the units a dose must be made of."""

from dataclasses import dataclass
from decimal import Decimal

from dispensing.enums import Drug


@dataclass(frozen=True)
class Product:
    code: str
    name: str  # as printed on the label (Danish)
    strength: str
    form: str
    dose_step_mg: Decimal  # every dose must be a whole multiple (what the pharmacy can measure out)
    mg_per_ml: Decimal | None = None  # oral solutions: the label also shows ml


@dataclass(frozen=True)
class DrugInfo:
    code: Drug
    name: str
    controlled: bool  # A§4: every mg accounted for, prescribing right needed
    max_dose_mg: Decimal  # a sanity limit against typing errors (800 for 80), not a clinical target
    products: tuple[Product, ...]

    def product(self, code: str | None) -> Product | None:
        """The product by code (default: the first listed), or None when unknown for this drug."""
        if code is None:
            return self.products[0]
        return next((p for p in self.products if p.code == code), None)


D = Decimal
CATALOGUE: dict[Drug, DrugInfo] = {
    info.code: info
    for info in (
        DrugInfo(
            Drug.METHADONE,
            "Metadon",
            True,
            D("300"),
            (
                Product(
                    "methadone-oral-1", "Metadon oral opløsning 1 mg/ml", "1 mg/ml", "oral opløsning", D("0.5"), D("1")
                ),
                Product(
                    "methadone-oral-10",
                    "Metadon oral opløsning 10 mg/ml",
                    "10 mg/ml",
                    "oral opløsning",
                    D("1"),
                    D("10"),
                ),
                Product("methadone-tab-5", "Metadon tabletter 5 mg", "5 mg", "tablet", D("5")),
                Product("methadone-tab-10", "Metadon tabletter 10 mg", "10 mg", "tablet", D("5")),
                Product("methadone-tab-20", "Metadon tabletter 20 mg", "20 mg", "tablet", D("5")),
            ),
        ),
        DrugInfo(
            Drug.BUPRENORPHINE,
            "Buprenorphin",
            True,
            D("32"),
            (
                Product(
                    "subutex-sl", "Subutex resoribletter 0,4/2/8 mg", "0,4/2/8 mg", "resoriblet, sublingual", D("0.4")
                ),
                Product("espranor", "Espranor frysetørrede tabletter 2/8 mg", "2/8 mg", "frysetørret tablet", D("2")),
            ),
        ),
        DrugInfo(
            Drug.BUPRENORPHINE_NALOXONE,
            "Buprenorphin/naloxon",
            True,
            D("24"),
            (
                Product(
                    "suboxone",
                    "Suboxone resoribletter 2/0,5 mg og 8/2 mg",
                    "2/0,5 og 8/2 mg",
                    "resoriblet, sublingual",
                    D("2"),
                ),
            ),
        ),
        DrugInfo(
            Drug.DISULFIRAM,
            "Antabus",
            False,
            D("800"),
            (Product("antabus", "Antabus brusetabletter 200/400 mg", "200/400 mg", "brusetablet", D("200")),),
        ),
        DrugInfo(
            Drug.ACAMPROSATE,
            "Campral",
            False,
            D("1998"),
            (Product("campral", "Campral enterotabletter 333 mg", "333 mg", "enterotablet", D("333")),),
        ),
    )
}


# --- Stock of controlled drugs (DOMAIN.md rule 16) ---------------------------------------------
# What the cupboard holds and the ledger counts: one strength in one unit. A product of one
# strength is one stock item under the product's own code; a product sold in several strengths
# (Subutex 0.4/2/8 mg) is one item per strength, as the pharmacist counts them apart.


@dataclass(frozen=True)
class StockItem:
    code: str
    product_code: str
    name: str  # Danish, as on the ledger
    unit: str  # "ml" | "tablet"
    mg_per_unit: Decimal


def _stock_items() -> dict[str, StockItem]:
    tablets = {  # multi-strength products: mg of buprenorphine per tablet, the strength as printed
        "subutex-sl": ("Subutex resoribletter", ((D("0.4"), "0,4"), (D("2"), "2"), (D("8"), "8"))),
        "espranor": ("Espranor frysetørrede tabletter", ((D("2"), "2"), (D("8"), "8"))),
        "suboxone": ("Suboxone resoribletter", ((D("2"), "2/0,5"), (D("8"), "8/2"))),
    }
    items: dict[str, StockItem] = {}
    for info in CATALOGUE.values():
        if not info.controlled:
            continue
        for p in info.products:
            if p.mg_per_ml is not None:
                items[p.code] = StockItem(p.code, p.code, p.name, "ml", p.mg_per_ml)
            elif p.code in tablets:
                name, strengths = tablets[p.code]
                for mg, printed in strengths:
                    code = f"{p.code}-{mg}"
                    items[code] = StockItem(code, p.code, f"{name} {printed} mg", "tablet", mg)
            else:  # "Metadon tabletter 5 mg": strength in whole mg
                mg = D(p.strength.split()[0].replace(",", "."))
                items[p.code] = StockItem(p.code, p.code, p.name, "tablet", mg)
    return items


STOCK_ITEMS: dict[str, StockItem] = _stock_items()


def stock_items_for(product_code: str) -> list[StockItem]:
    """The stock items a product is dispensed from, strongest first (empty: not a controlled product)."""
    return sorted(
        (i for i in STOCK_ITEMS.values() if i.product_code == product_code), key=lambda i: i.mg_per_unit, reverse=True
    )
