"""Placeholder for the Excel importer, written in parallel: same API, refuses every file.

Replaced on merge by the real module; the staff import page only relies on this API.
"""

from __future__ import annotations

from dataclasses import dataclass, field

IS_STUB = True


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int | None
    column: str
    reason: str


@dataclass
class ImportReport:
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def run_import(fileobj_or_path, *, dry_run: bool, company_name: str | None = None) -> ImportReport:
    """Validate (and unless dry_run, import) a workbook; this stub reports that it cannot."""
    return ImportReport(
        dry_run=dry_run,
        errors=[RowError(sheet="", row=None, column="", reason="导入程序尚未安装 / the importer is not installed yet")],
    )
