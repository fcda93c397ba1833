"""reporting's exports, no servers: what a spreadsheet opens is data, never a formula."""
import csv
import io

from openpyxl import load_workbook

from services.reporting.exports import respond
from services.reporting.tables import Table

NAMES = Table("volunteer-hours", ("name", "hours"), [{"name": '=HYPERLINK("http://x","点我")', "hours": 2.5},
                                                     {"name": "-1+1", "hours": -1.5}, {"name": "王芳", "hours": 1}])


def test_a_name_that_looks_like_a_formula_stays_text_in_csv():
    body = respond(NAMES, "csv").body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1] == ["'=HYPERLINK(\"http://x\",\"点我\")", "2.5"]
    assert rows[2] == ["'-1+1", "-1.5"] and rows[3] == ["王芳", "1"]  # numbers stay numbers


def test_a_name_that_looks_like_a_formula_stays_text_in_xlsx():
    sheet = load_workbook(io.BytesIO(respond(NAMES, "xlsx").body)).active
    link, minus, plain = (sheet.cell(row, 1) for row in (2, 3, 4))
    assert (link.data_type, link.value) == ("s", '=HYPERLINK("http://x","点我")')
    assert minus.value == "-1+1" and plain.value == "王芳"
    assert sheet.cell(3, 2).value == -1.5
