"""Label templates: loading, errors, and wording that changes without code."""

import subprocess

import pytest

from dispensing.labels import ReportLabRenderer, available_templates, load_template
from dispensing.labels.templates import DEFAULT_TEMPLATE_DIR

from .factories import make_label, require_tool


def test_both_label_kinds_are_available():
    assert {"roll_89x36", "a4_sheet"} <= set(available_templates())


def test_roll_is_one_label_per_page_and_a4_a_real_grid():
    roll, a4 = load_template("roll_89x36"), load_template("a4_sheet")
    assert roll.grid.per_page == 1
    assert (roll.page_width_mm, roll.page_height_mm) == (89, 36)
    assert (a4.page_width_mm, a4.page_height_mm) == (210, 297)
    assert (a4.grid.columns, a4.grid.rows) == (2, 8)


def test_loading_is_cached():
    assert load_template("a4_sheet") is load_template("a4_sheet")


@pytest.mark.parametrize("name", ["nope", "../label_templates/roll_89x36", ""])
def test_unknown_name_lists_the_available_ones(name):
    with pytest.raises(ValueError) as excinfo:
        load_template(name)
    assert "a4_sheet" in str(excinfo.value) and "roll_89x36" in str(excinfo.value)


@pytest.mark.parametrize(
    "drug, expected",
    [
        ("methadone", ("Metadon kan være dødeligt for børn", "Opbevares utilgængeligt for børn")),
        ("buprenorphine", ("Opbevares utilgængeligt for børn",)),
    ],
)
def test_warnings_per_drug(drug, expected):
    for name in available_templates():
        assert load_template(name).warnings.for_drug(drug) == expected


def _copy_roll(tmp_path, old: str, new: str):
    text = (DEFAULT_TEMPLATE_DIR / "roll_89x36.toml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "custom.toml").write_text(text.replace(old, new, 1), encoding="utf-8")


def test_wording_changes_without_code_change(tmp_path):
    pdftotext = require_tool("pdftotext")
    _copy_roll(tmp_path, 'caption = "Dosis pr. dag:"', 'caption = "Daglig dosis:"')
    assert available_templates(tmp_path) == ["custom"]
    pdf = ReportLabRenderer().render([make_label()], load_template("custom", tmp_path))
    text = subprocess.run([pdftotext, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "Daglig dosis: 80 mg" in text
    assert "Dosis pr. dag" not in text


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('text = "{patient_cpr}"', 'text = "{patient_cpr_full}"', "unknown placeholder"),
        ("size = 7.5\nmax_width_mm = 59.5", "size = 7.5\nmax_widht_mm = 59.5", "unknown key"),
        ("y_mm = 7.9", "y_mm = 9.0", "overlaps"),
        ("x_mm = 62.5\ny_mm = 1.0", "x_mm = 60.0\ny_mm = 1.0", "overlaps"),
        ("x_mm = 2.5\ny_mm = 4.4", "x_mm = 40.0\ny_mm = 4.4", "outside"),
        ('days_many = "{n} dage"', 'days_many = "{count} dage"', "unknown placeholder"),
        ("max_lines = 2", "max_lines = 1", "max_lines"),
        ("rows = 1", "rows = 2", "do not fit"),
        ("size = 10", 'size = "10"', "expected float"),
        ("[qr]", "[qrcode]", "unknown section"),
        ("height_mm = 36", "height_mm = 36\nheigth_mm = 36", "unknown key"),
    ],
)
def test_template_mistakes_are_caught_when_loading(tmp_path, old, new, message):
    _copy_roll(tmp_path, old, new)
    with pytest.raises(ValueError, match=message):
        load_template("custom", tmp_path)


def test_template_dir_without_templates(tmp_path):
    with pytest.raises(ValueError, match="available: none"):
        load_template("roll_89x36", tmp_path)
