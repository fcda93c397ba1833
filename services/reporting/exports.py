"""Every table as JSON, CSV or XLSX."""
import csv
import io
import json
from datetime import datetime
from uuid import UUID

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from openpyxl import Workbook

from services.reporting.tables import Table

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A value as a spreadsheet cell: text for ids, ISO text for times (spreadsheets drop offsets),
    a list as its items joined by commas (a campaign's communities)."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _text(value):
    """Text a spreadsheet would run as a formula (a volunteer's name "=HYPERLINK(…)") is kept as
    text: a leading apostrophe, as spreadsheets themselves write it."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([_text(_cell(row.get(column))) for column in table.columns] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the Chinese right


def _xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = table.name[:31]
    sheet.append(table.columns)
    for row in table.rows:
        sheet.append([_cell(row.get(column)) for column in table.columns])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # openpyxl takes any text starting with "=" for a formula
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def respond(table: Table, format: str, **extra) -> Response:
    """The table in `format`; JSON carries `extra` (the query, fairness …) beside the rows."""
    if format == "json":
        return JSONResponse(jsonable_encoder({**extra, "rows": table.rows}))
    body, media_type = (_csv(table), "text/csv; charset=utf-8") if format == "csv" else (_xlsx(table), XLSX)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{table.name}.{format}"'})
