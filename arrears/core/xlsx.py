"""The one xlsx writer: every workbook the system produces goes through it, and text stays text.

Exports carry text people typed or imported (names, rooms, references, reasons). openpyxl stores
a string that starts with "=" as a formula, and Excel, WPS and LibreOffice re-read "+", "-", "@",
a tab or a CR at the start of a cell as one when the cell is edited. So every string cell is
written as a string (`t="inlineStr"`, never an `<f>` element), and one that starts with such a
character also gets the quote prefix (the style Excel gives a cell typed with a leading
apostrophe), so editing it keeps it text. The value itself is not changed: what the database
holds is what the cell reads.

Money goes in as Decimal numbers with a two-decimal format, never as text or float, so a SUM in
Excel gives the figure the database gives; dates keep a date format. The workbook is write-only:
rows stream, and memory does not grow with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
TOTAL_LABEL = "合计"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
TOTAL_FONT = Font(bold=True)

# A column's kind says how its cells are typed; AUTO types each cell by its value.
TEXT, MONEY, DATE, NUMBER, AUTO = "text", "money", "date", "number", "auto"

# What a spreadsheet reads as the start of a formula when the cell is typed or edited.
# The fullwidth signs too: with a Chinese or Japanese input method a typed "＝" starts a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = AUTO
    width: float | None = None
    fill: PatternFill | None = None  # the header's fill, when not the house blue


def _column(spec) -> Column:
    return spec if isinstance(spec, Column) else Column(*spec)


def cell(sheet, value, kind: str = AUTO, *, font: Font | None = None) -> WriteOnlyCell:
    """One typed cell: strings as strings, money as a 2-decimal number, dates with a date format."""
    if isinstance(value, str) or (kind == TEXT and value is not None and not isinstance(value, date | Decimal | int | float)):
        value = ILLEGAL_CHARACTERS_RE.sub("", str(value))  # control characters would make the file unreadable
        made = WriteOnlyCell(sheet, value=value)
        # openpyxl would store "=…" as a formula (data_type "f"); a string cell is never evaluated.
        made.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            made.quotePrefix = True
    else:
        made = WriteOnlyCell(sheet, value=value)
        if value is not None:
            if kind == MONEY or (kind == AUTO and isinstance(value, Decimal)):
                made.number_format = MONEY_FORMAT
            elif kind == DATE or (kind == AUTO and isinstance(value, date | datetime)):
                made.number_format = DATE_FORMAT
    if font is not None:
        made.font = font
    return made


class Sheet:
    """A write-only sheet with a styled header, typed columns and, when asked, a totals row of its money columns."""

    def __init__(self, workbook: Workbook, title: str, columns, *, index: int | None = None):
        self.sheet = workbook.create_sheet(title, index)
        self.columns = [_column(spec) for spec in columns]
        self.kinds = [column.kind for column in self.columns]
        self.totals = [Decimal(0) if kind == MONEY else None for kind in self.kinds]
        for i, column in enumerate(self.columns, start=1):
            if column.width is not None:
                self.sheet.column_dimensions[get_column_letter(i)].width = column.width
        self.sheet.freeze_panes = "A2"
        header = []
        for column in self.columns:
            made = cell(self.sheet, column.name, TEXT, font=HEADER_FONT)
            made.fill, made.alignment = column.fill or HEADER_FILL, Alignment(horizontal="center")
            header.append(made)
        self.sheet.append(header)

    def append(self, values) -> None:
        values = list(values)
        for i, (value, kind) in enumerate(zip(values, self.kinds, strict=True)):
            if kind == MONEY and value is not None:
                self.totals[i] += value
        self.sheet.append([cell(self.sheet, v, k) for v, k in zip(values, self.kinds, strict=True)])

    def close(self) -> None:
        """Append the totals row: the figure finance checks against the database."""
        values = [TOTAL_LABEL] + self.totals[1:]
        self.sheet.append([cell(self.sheet, v, k, font=TOTAL_FONT) for v, k in zip(values, self.kinds, strict=True)])


class Book:
    """A write-only workbook whose every cell goes through `cell`."""

    def __init__(self):
        self.workbook = Workbook(write_only=True)

    def sheet(self, title: str, columns, *, index: int | None = None) -> Sheet:
        return Sheet(self.workbook, title, columns, index=index)

    def rows(self, title: str, rows, *, widths=(), index: int | None = None) -> None:
        """A plain sheet of rows (no header styling, no totals), each cell typed by its value."""
        sheet = self.workbook.create_sheet(title, index)
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        for row in rows:
            sheet.append([cell(sheet, value) for value in row])

    def notes(self, lines: list[tuple[str, object]], *, title: str = "说明") -> None:
        """The notes sheet: what the report is, its date and how its figures are counted."""
        self.rows(title, lines, widths=(16, 70))

    def save(self, path_or_file) -> None:
        self.workbook.save(path_or_file)
