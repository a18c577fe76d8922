"""Peak memory of the import's check pass: a large legal workbook, and a zip bomb.

Each case runs in a process of its own, so its peak resident size (ru_maxrss) is its own:

    DATABASE_URL=sqlite:////tmp/import-bench.sqlite3 .venv/bin/python bench/import_memory.py --rows 200000

The legal file has --rows rows of 房屋 (new units of one community); the bomb is a workbook of a
few hundred KB whose sheet unpacks to --bomb-mb MB. The bomb must be refused before unpacking.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["小区", "楼栋", "单元", "房号", "建筑面积", "状态"]


def legal(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("房屋")
    sheet.append(HEADER)
    for i in range(rows):
        sheet.append(["阳光花园", f"{i // 1000 + 1}栋", str(i // 100 % 10 + 1), f"{i % 100 + 101}", 88.5, "自住"])
    book.save(path)


def zip_bomb(megabytes: int) -> bytes:
    """A valid workbook of a few hundred KB whose one sheet (房屋) unpacks to `megabytes` MB of rows."""
    from openpyxl import Workbook

    small, out = io.BytesIO(), io.BytesIO()
    book = Workbook()
    book.active.title = "房屋"
    book.active.append(HEADER)
    book.save(small)
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for member in source.infolist():
            if member.filename != "xl/worksheets/sheet1.xml":
                target.writestr(member, source.read(member))
                continue
            with target.open(member.filename, "w", force_zip64=True) as sheet:
                sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                written = 0
                while written < megabytes * 1024 * 1024:
                    sheet.write(row)
                    written += len(row)
                sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def bomb(path: Path, megabytes: int) -> None:
    path.write_bytes(zip_bomb(megabytes))


def measure(path: Path) -> None:
    """Child process: set Django up, then run the check pass and print the peak memory."""
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    from arrears.ledger.importers import run_import

    call_command("migrate", verbosity=0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    report = run_import(path, dry_run=True)
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    first = str(report.errors[0])[:100] if report.errors else "ok"
    print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB, peak RSS {before / 1024:.0f} MB before, "
          f"{peak / 1024:.0f} MB after, {seconds:.1f} s; {len(report.errors)} errors; {first}; counts {report.counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--bomb-mb", type=int, default=400)
    parser.add_argument("--measure")
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure))
        return
    with tempfile.TemporaryDirectory() as folder:
        cases = [(Path(folder) / "legal.xlsx", lambda p: legal(p, args.rows)),
                 (Path(folder) / "bomb.xlsx", lambda p: bomb(p, args.bomb_mb))]
        for path, build in cases:
            build(path)
            subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
