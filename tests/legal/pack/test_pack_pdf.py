"""The pack's own PDFs: long tables run on over pages with their heading, nothing cut off, same bytes twice."""

import shutil
import subprocess
from datetime import date

import pytest

from arrears.legal.pack_pdf import Document, Section, Table, render

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")


def text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def pages(pdf: bytes) -> int:
    return text(pdf).count("\f")


def document(rows, widths=(1, 4, 4)) -> Document:
    return Document(title="催收记录", facts=("案件编号：7",), as_of=date(2026, 5, 9), footer="示范物业 · 测试",
                    sections=(Section("联系记录", table=Table(("序号", "记录", "备注"), tuple(rows), widths)),))


def test_a_long_table_runs_on_over_pages_with_every_row_and_the_same_bytes_twice():
    # given
    rows = [(str(number), f"第{number}次电话，业主称下周缴费", "—") for number in range(1, 201)]
    # when
    first, second = render(document(rows)), render(document(rows))
    # then
    assert first == second
    printed = text(first)
    assert pages(first) >= 5 and printed.count("序号") == pages(first)  # the heading on every page
    assert all(f"第{number}次电话" in printed for number in range(1, 201))


def test_a_cell_longer_than_a_page_is_split_not_cut_off():
    # given: a 2,000-character note in a narrow column, ending in a marker
    note = "业主反映楼道照明长期不亮" * 160 + "完毕END"
    # when
    pdf = render(document([("1", note, "x")], widths=(1, 1, 8)))
    # then
    assert pages(pdf) >= 3
    assert "完毕END" in text(pdf).replace("\n", "")


def test_characters_the_font_lacks_do_not_stop_the_pdf():
    # when: an emoji in a note
    pdf = render(document([("1", "业主发来 👍 表示同意", "—")]))
    # then
    assert "业主发来" in text(pdf)
