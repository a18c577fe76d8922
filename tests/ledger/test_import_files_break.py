"""Issue 13, path 8, attacked again: parts of a workbook that openpyxl reads whole, not as a stream."""

import io
import zipfile

import openpyxl
import pytest

from arrears.ledger.import_files import Limits, read_workbook
from arrears.ledger.importers import OPTIONAL, SHEETS

SS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
WS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
LIMITS = Limits(unpacked_bytes=200 * 1024 * 1024, ratio=100, rows=5000)  # parts read whole: at most 1 MB


def _houses(rows=0) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "房屋"
    sheet.append(["小区", "楼栋", "单元", "房号", "建筑面积", "状态"])
    for i in range(rows):
        sheet.append([f"阳光花园{i:06d}" * 4, f"{i}栋", "1", f"{i:05d}", 88.5, "自住"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _with_shared_strings(strings: int, *, extra_override: str = "") -> bytes:
    """The workbook plus a shared strings part of `strings` distinct entries (hardly compressible)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_houses())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", (f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SS_TYPE}"/>'
                                                  f"{extra_override}</Types>").encode())
            if member.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/'
                                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
            target.writestr(member, data)
        body = b"".join(b"<si><t>%x</t></si>" % (i * 2654435761 % (1 << 32)) for i in range(strings))
        target.writestr("xl/sharedStrings.xml", b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                        b'spreadsheetml/2006/main">' + body + b"</sst>")
    return out.getvalue()


@pytest.mark.parametrize("extra_override", ["", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{WS_TYPE}"/>'])
def test_it_refuses_shared_strings_larger_than_the_rows_allow_before_reading_them(extra_override):
    # given 2 MB of distinct shared strings (on a real upload: 20 MB of them took 1.4 GB of memory),
    # compressed well under the ratio limit, in a workbook with no data row at all; the second case
    # also declares the part a worksheet, hoping to pass as streamed
    content = _with_shared_strings(90_000, extra_override=extra_override)
    # when it is read
    sheets, errors = read_workbook(io.BytesIO(content), SHEETS, OPTIONAL, limits=LIMITS)
    # then it is refused unread, naming the part and the limit
    assert sheets == {}
    assert [e.text.split("，")[0] for e in errors] == ["文件中 xl/sharedStrings.xml 须整体读入内存"]
    assert "超过上限 1 MB" in errors[0].text


def test_it_still_streams_a_worksheet_larger_than_the_parts_read_whole():
    # given 5,000 rows of long texts: a sheet part over 1 MB, within the row limit
    content = _houses(rows=5000)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 1024 * 1024
    # when it is read, then every row is there
    sheets, errors = read_workbook(io.BytesIO(content), SHEETS, OPTIONAL, limits=LIMITS)
    assert errors == []
    assert len(sheets["房屋"]) == 5000
