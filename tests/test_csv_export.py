"""The one CSV writer's cells: nothing a spreadsheet would run as a formula (OWASP)."""

import pytest

from wappin_portal.csv_export import csv_safe


@pytest.mark.parametrize(
    "cell",
    ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", " =cmd|' /C calc'!A0", "\t \n@x", "\uff1d1"],
)
def test_a_formula_is_quoted_even_after_leading_whitespace(cell):
    assert csv_safe(cell) == "'" + cell


@pytest.mark.parametrize(("cell", "shown"), [("Budi", "Budi"), (" Budi", " Budi"), (None, "")])
def test_other_cells_stay_as_they_are(cell, shown):
    assert csv_safe(cell) == shown
