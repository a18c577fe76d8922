"""Reading an import workbook safely: limits first, then a streaming read of the known sheets.

An .xlsx is a zip archive. Its members' declared sizes are checked before anything is unpacked,
so a small file that unpacks to hundreds of megabytes (a zip bomb) is refused at the door;
Python's zipfile never hands out more than a member declares, so a lying header only truncates.
A part openpyxl reads whole (shared strings, styles: everything but the worksheets) may not be
larger than the row limit allows (WHOLE_PART_BYTES_PER_ROW), whatever its compression.
The sheets are then read with openpyxl in read-only mode, row by row, keeping only the known
columns of each row, and the read stops at the row limit.

Every key cell (community, building, entrance, room, names, references) is read through `key`,
which gives the normal form of `arrears.core.text.normalise_key`: lookups and writes use it.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from sys import intern

from django.conf import settings
from django.utils.translation import gettext_noop as N_
from openpyxl import load_workbook
from openpyxl.xml.functions import fromstring

from arrears.core.i18n import translate
from arrears.core.text import normalise_key

log = logging.getLogger(__name__)

# Reasons are Chinese msgids (English in the .po), with "%(name)s" placeholders filled from the
# error's params when shown: a stored report reads in the language of whoever opens it.
REQUIRED_REASON = N_("必填")
FORMULA_REASON = N_("公式没有计算结果（%(formula)s），请在 Excel 中复制后“选择性粘贴为数值”再上传")
COLUMN_MISSING = N_("缺少此列")
UNREADABLE = N_(
    "文件不是可读取的 Excel 工作簿：请在 Excel 或 WPS 表格中打开，“另存为 .xlsx”后再上传（改了扩展名的 Word、.xls 或 .csv 文件不行）"
)
RATIO_FLOOR = 1024 * 1024  # members smaller than this unpack to little whatever their ratio (styles, themes)
# openpyxl streams the worksheets, but reads every other part whole (the shared strings above all,
# about 8 bytes of memory per byte of XML): such a part may hold this much text per allowed row.
WHOLE_PART_BYTES_PER_ROW = 200
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CONTENT_TYPES = "[Content_Types].xml"


@dataclass(frozen=True)
class RowError:
    """One error of an import: where (sheet, row, column: the workbook's own names) and why.

    `reason` is a Chinese msgid and `params` its placeholders' values; `text` is the reason in
    the active language. A report stored before the msgids kept "中文 / english" in `reason`.
    """

    sheet: str
    row: int
    column: str
    reason: str
    params: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, sheet: str, row: int, column: str, reason: str, /, **params) -> RowError:
        return cls(sheet, row, column, reason, tuple(params.items()))

    @property
    def text(self) -> str:
        return translate(self.reason, dict(self.params))

    def __str__(self):
        where = f"{self.sheet} 第{self.row}行" if self.row else (self.sheet or "文件")
        return f"{where} {self.column}: {self.text}" if self.column else f"{where}: {self.text}"

    def as_json(self) -> list:
        return [self.sheet, self.row, self.column, self.reason, dict(self.params)]

    @classmethod
    def from_json(cls, data: list) -> RowError:
        """A stored error; one stored as four fields (before params) keeps its bilingual reason, shown in one language."""
        sheet, row, column, reason, *rest = data
        return cls(sheet, row, column, reason, tuple((rest[0] if rest else {}).items()))



@dataclass(frozen=True)
class Limits:
    """How much one import may read (settings ARREARS_IMPORT_*; see config/settings.py)."""

    unpacked_bytes: int
    ratio: int
    rows: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(settings.ARREARS_IMPORT_MAX_UNPACKED_BYTES, settings.ARREARS_IMPORT_MAX_RATIO,
                   settings.ARREARS_IMPORT_MAX_ROWS)


class _Row:
    """One data row: its values as a tuple, looked up through the sheet's shared column index."""

    __slots__ = ("sheet", "number", "values", "index")

    def __init__(self, sheet: str, number: int, values: tuple, index: dict[str, int]):
        self.sheet, self.number, self.values, self.index = sheet, number, values, index

    def raw(self, column: str):
        i = self.index.get(column)
        value = self.values[i] if i is not None and i < len(self.values) else None
        return None if isinstance(value, str) and not normalise_key(value) else value  # invisible only: empty


def text(value) -> str:
    """Cell as text; Excel turns 101 into 101.0, which is still room 101."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def key(value) -> str:
    """A key cell in its normal form: the one way the import reads names, rooms and references."""
    return intern(normalise_key(text(value)))  # keys repeat across rows and plans: keep each once


def normalise_header(value) -> str:
    return text(value).replace("（", "(").replace("）", ")").replace(" ", "")


def _rewind(source):
    if isinstance(source, str | Path):
        return str(source)
    if hasattr(source, "seek"):
        source.seek(0)
    return source


def check_archive(source, limits: Limits) -> RowError | None:
    """Refuse a workbook whose members would unpack too large, judged by their declared sizes only."""
    try:
        with zipfile.ZipFile(_rewind(source)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        log.info("import file is not a zip archive: %s", exc)  # the reader's words are for the log, not the user
        return RowError("", 0, "", UNREADABLE)
    total = sum(member.file_size for member in members)
    limit_mb = limits.unpacked_bytes // (1024 * 1024)
    if total > limits.unpacked_bytes:
        return RowError.of("", 0, "", N_("文件解压后约 %(size)s MB，超过上限 %(limit)s MB，未读取；请拆分后上传"),
                           size=total // (1024 * 1024), limit=limit_mb)
    for member in members:
        if member.file_size > RATIO_FLOOR and member.file_size > limits.ratio * max(member.compress_size, 1):
            return RowError.of("", 0, "", N_("文件压缩比异常（%(member)s 压缩 %(ratio)s 倍），疑似压缩炸弹，未读取"),
                               member=member.filename, ratio=member.file_size // max(member.compress_size, 1))
    return _check_whole_parts(source, members, limits)


def _check_whole_parts(source, members: list[zipfile.ZipInfo], limits: Limits) -> RowError | None:
    """Refuse a part openpyxl would read whole (not a worksheet) that is larger than the rows allow:
    millions of shared strings in a few MB of upload would otherwise take gigabytes of memory."""
    whole_limit = max(limits.rows * WHOLE_PART_BYTES_PER_ROW, RATIO_FLOOR)
    streamed = _worksheet_parts(source, members, whole_limit)
    for member in members:
        if member.file_size > whole_limit and member.filename not in streamed:
            return RowError.of("", 0, "", N_(
                "文件中 %(member)s 须整体读入内存，解压后约 %(size)s MB，超过上限 %(limit)s MB，未读取；请拆分后上传或另存为新的 .xlsx"
            ), member=member.filename, size=member.file_size // (1024 * 1024), limit=whole_limit // (1024 * 1024))
    return None


def _worksheet_parts(source, members: list[zipfile.ZipInfo], whole_limit: int) -> set[str]:
    """The parts the archive declares as worksheets (read as a stream); none if it cannot say."""
    declared = next((m for m in members if m.filename == CONTENT_TYPES), None)
    if declared is None or declared.file_size > whole_limit:
        return set()
    try:
        with zipfile.ZipFile(_rewind(source)) as archive:
            root = fromstring(archive.read(declared))  # defusedxml when installed, as openpyxl reads it
    except Exception:  # noqa: BLE001 - an unreadable manifest streams nothing; openpyxl reports the file
        return set()
    declared_as: dict[str, set[str]] = {}
    for node in root:
        if node.tag.endswith("}Override"):
            declared_as.setdefault(node.get("PartName", "").lstrip("/"), set()).add(node.get("ContentType"))
    return {part for part, types in declared_as.items() if types == {WORKSHEET_TYPE}}  # declared twice: read whole


def read_workbook(
    source, columns: dict[str, list[str]], optional: dict[str, set[str]], *, limits: Limits,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, list[_Row]], list[RowError]]:
    """Rows of the known sheets; a missing required column is an error on row 1.

    Errors at file level (unreadable, too large, too many rows, no known sheet) come back with no
    rows. `progress(done, total)` is told every thousand rows; total is the sheets' declared size.
    """
    refused = check_archive(source, limits)
    if refused is not None:
        return {}, [refused]
    try:
        workbook = load_workbook(_rewind(source), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        log.info("import file is not a workbook: %s", exc)
        return {}, [RowError("", 0, "", UNREADABLE)]
    sheets, errors, done = {}, [], 0
    try:
        known = [name for name in columns if name in workbook.sheetnames]
        if not known:
            found = "、".join(workbook.sheetnames) or "—"
            return {}, [RowError.of("", 0, "", N_("没有可导入的工作表：工作表名应为 %(expected)s（本文件中：%(found)s）"),
                                    expected="/".join(columns), found=found)]
        hidden = [name for name in known if workbook[name].sheet_state != "visible"]
        if hidden:  # rows nobody looked at would be written: the user unhides and checks them, or deletes the sheet
            return {}, [RowError.of(name, 0, "", N_("工作表“%(sheet)s”是隐藏的：请在 Excel 中取消隐藏并检查；不要导入的工作表请删除"),
                                    sheet=name) for name in hidden]
        total = sum(max((workbook[name].max_row or 1) - 1, 0) for name in known)
        for name in known:
            rows = workbook[name].iter_rows(values_only=True)
            header = [normalise_header(cell) for cell in next(rows, ())]
            for column in columns[name]:
                if column not in header and column not in optional[name]:
                    errors.append(RowError(name, 1, column, COLUMN_MISSING))
            index = {c: header.index(c) for c in columns[name] if c in header}
            width = max(index.values(), default=-1) + 1
            sheets[name] = []
            for number, values in enumerate(rows, start=2):
                values = values[:width]
                if all(v is None or (isinstance(v, str) and not normalise_key(v)) for v in values):
                    continue
                done += 1
                if done > limits.rows:
                    return {}, [RowError.of(name, number, "", N_("文件超过 %(rows)s 行，未导入；请拆分后分批上传"),
                                            rows=limits.rows)]
                # One object per distinct short text: a community's name repeated on 200,000 rows is kept once.
                values = tuple(intern(v) if isinstance(v, str) and len(v) <= 64 else v for v in values)
                sheets[name].append(_Row(name, number, values, index))
                if progress is not None and done % 1000 == 0:
                    progress(done, max(total, done))
    finally:
        workbook.close()
    if progress is not None:
        progress(done, done)
    return sheets, errors


def explain_formulas(source, errors: list[RowError], columns: dict[str, list[str]]) -> list[RowError]:
    """Say "formula" where a required cell was empty only because its formula has no saved value.

    Read-only openpyxl gives either the saved values or the formulas, not both: the first read
    took the values, so this second read, of the error rows only, takes the formulas.
    """
    wanted: dict[str, dict[int, set[str]]] = {}
    for error in errors:
        if error.reason == REQUIRED_REASON and error.sheet in columns:
            wanted.setdefault(error.sheet, {}).setdefault(error.row, set()).add(error.column)
    if not wanted:
        return errors
    formulas: dict[tuple[str, int, str], str] = {}
    workbook = load_workbook(_rewind(source), read_only=True, data_only=False)
    try:
        for name, rows in wanted.items():
            sheet = workbook[name]
            header = [normalise_header(cell) for cell in next(sheet.iter_rows(max_row=1, values_only=True), ())]
            for number, values in enumerate(sheet.iter_rows(min_row=min(rows), max_row=max(rows), values_only=True),
                                            start=min(rows)):
                for column in rows.get(number, ()):
                    value = values[header.index(column)] if column in header and header.index(column) < len(values) else None
                    formula = getattr(value, "text", value)  # ArrayFormula keeps its text in .text
                    if isinstance(formula, str) and formula.startswith("="):
                        formulas[(name, number, column)] = formula
    finally:
        workbook.close()
    return [
        RowError.of(e.sheet, e.row, e.column, FORMULA_REASON, formula=formulas[(e.sheet, e.row, e.column)][:40])
        if (e.sheet, e.row, e.column) in formulas else e
        for e in errors
    ]
