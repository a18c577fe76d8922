"""Letter PDFs: rendered for real with the machine's CJK font, read back with pypdf and poppler."""

import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from arrears.core.errors import DomainError
from arrears.core.money import MoneyError
from arrears.notices import pdf, pdf_fonts
from arrears.notices.pdf import LawFirm, LetterContent, Letterhead, LetterLine

ROOT = Path(__file__).resolve().parents[2]


def letterhead() -> Letterhead:
    return Letterhead(
        company="阳光物业服务有限公司",
        address="杭州市西湖区文三路 100 号",
        phone="0571-88880000",
        service_phone="0571-88881234",
        bank_name="中国工商银行杭州文三路支行",
        bank_account="1202 0212 0900 0123 456",
        account_name="阳光物业服务有限公司",
        seal_text="（盖章）",
    )


def law_firm() -> LawFirm:
    return LawFirm(name="浙江明理律师事务所", address="杭州市上城区解放路 18 号 9 楼", phone="0571-87650000",
                   lawyer="王立", licence_no="13301201810123456")


def charge_lines(count: int = 4) -> tuple[LetterLine, ...]:
    lines = []
    for index in range(count):
        year, quarter = 2024 + index // 4, index % 4
        lines.append(LetterLine(
            period=f"{year}年{quarter * 3 + 1}月—{quarter * 3 + 3}月",
            item="物业服务费" if index % 3 else "物业服务费（含公共能耗）",
            due_on=date(year, quarter * 3 + 1, 15),
            amount=Decimal("1286.40"),
            paid=Decimal("300.00") if index == 1 else Decimal("0.00"),
            outstanding=Decimal("986.40") if index == 1 else Decimal("1286.40"),
            late_fee=Decimal(f"{12 + index}.37"),
        ))
    return tuple(lines)


PARAGRAPHS = (
    "您名下位于阳光花园3栋2单元1201室的房屋，自2024年1月起至今未缴纳物业服务费。我司此前已通过电话、短信及上门"
    "拜访等方式多次提醒，并就您反映的电梯维修问题进行了处理和回复，但截至本函发出之日，上述费用仍未缴清。",
    "根据您签署的《前期物业服务协议》及《中华人民共和国民法典》的相关规定，按约定支付物业服务费是业主的法定义务。"
    "我司始终致力于为全体业主提供良好的物业服务，公共区域的清洁、绿化、安保和设施设备维护都依赖于每一位业主按时缴费。"
    "详细的收费依据可在线查看：https://pay.example.com/statement/3-2-1201/2024-2026/detail?lang=zh-CN&view=full。",
)


def collection_letter(**changes) -> LetterContent:
    content = LetterContent(
        kind="collection",
        number="YG-CF-2026-000123",
        issued_on=date(2026, 3, 2),
        deadline=date(2026, 3, 16),
        addressee="张先生",
        owner_name="张伟",
        community="阳光花园",
        unit="3栋2单元1201室",
        lines=charge_lines(),
        as_of=date(2026, 3, 1),
        paragraphs=PARAGRAPHS,
        payment_methods=("到阳光花园物业服务中心前台缴纳（工作日 9:00—17:30）", "通过“阳光物业”微信公众号在线缴纳"),
        letterhead=letterhead(),
        payment_link="https://pay.example.com/p/YG-3-2-1201",
        legal_basis=pdf.default_legal_basis("collection"),
        signatory="阳光花园物业服务中心",
    )
    return replace(content, **changes)


def lawyer_letter(**changes) -> LetterContent:
    content = collection_letter(
        kind="lawyer",
        number="MLLS-2026-0042",
        deadline=date(2026, 3, 16),
        paragraphs=(
            "浙江明理律师事务所（以下简称“本所”）受阳光物业服务有限公司（以下简称“委托人”）的委托，指派王立律师，"
            "就您拖欠阳光花园3栋2单元1201室物业服务费一事，郑重致函如下：",
            "委托人依据物业服务合同为阳光花园提供物业服务，已按约定履行了服务义务。委托人曾于2025年11月3日、"
            "2026年1月8日两次向您发出书面催费函，您至今未予缴纳。",
        ),
        legal_basis=pdf.default_legal_basis("lawyer"),
        law_firm=law_firm(),
    )
    return replace(content, **changes)


def text_of(data: bytes) -> str:
    """The text without spaces (readers drop or add them between CJK characters at will)."""
    return "".join(text_of_page(data, number) for number in range(1, len(PdfReader(io.BytesIO(data)).pages) + 1))


def text_of_page(data: bytes, number: int) -> str:
    """Poppler's text (it reads CJK best), or pypdf's when poppler-utils is not installed."""
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), "-", "-"], input=data,
                              capture_output=True, check=True).stdout.decode()
    else:
        text = PdfReader(io.BytesIO(data)).pages[number - 1].extract_text()
    return re.sub(r"\s+", "", text)


def test_it_renders_a_collection_letter_with_the_owner_unit_total_and_number():
    # given
    content = collection_letter()

    # when
    data = pdf.render_letter(content)

    # then
    text = text_of(data)
    assert data.startswith(b"%PDF-")
    for expected in ("催", "张伟", "阳光花园3栋2单元1201室业主", "尊敬的张先生：", "YG-CF-2026-000123", "2026年3月2日",
                     "2026年3月16日前缴清", "5,145.60", "4,845.60", "55.48", "4,901.08", "肆仟玖佰零壹元零捌分",
                     "第1页/共2页", "第九百四十四条", "阳光花园物业服务中心", "1202021209000123456"):
        assert expected in text, expected
    assert "停水" not in text and "停电" not in text


def test_it_renders_a_lawyer_letter_for_the_firm_on_behalf_of_the_company():
    data = pdf.render_letter(lawyer_letter())

    text = text_of(data)
    for expected in ("浙江明理律师事务所", "律", "受阳光物业服务有限公司委托", "承办律师：王立", "13301201810123456",
                     "MLLS-2026-0042", "张伟", "4,901.08", "第一百九十五条", "缴付委托人"):
        assert expected in text, expected


def test_it_embeds_a_subset_cid_font():
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts (poppler-utils) is not installed")
    data = pdf.render_letter(collection_letter())

    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode()

    rows = fonts.splitlines()[2:]
    assert rows, fonts
    for row in rows:
        assert "CID" in row and " yes yes yes " in row, fonts


def test_it_sets_the_metadata_from_the_letter():
    metadata = PdfReader(io.BytesIO(pdf.render_letter(collection_letter()))).metadata

    assert metadata.title == "催费函　阳光花园3栋2单元1201室"
    assert metadata.author == "阳光物业服务有限公司"
    assert metadata.subject == "YG-CF-2026-000123"
    assert metadata["/CreationDate"].startswith("D:20260302000000+08")


def test_it_renders_the_same_content_to_the_same_bytes():
    first = pdf.render_letter(collection_letter())
    second = pdf.render_letter(collection_letter())

    assert first == second
    assert pdf.sha256(first) == pdf.sha256(second)
    assert pdf.render_letter(collection_letter(number="YG-CF-2026-000124")) != first


def test_it_renders_the_same_bytes_in_another_process():
    data = pdf.render_letter(lawyer_letter())
    script = "import sys, django; django.setup(); from tests.notices.test_pdf import lawyer_letter; " \
             "from arrears.notices import pdf; sys.stdout.write(pdf.sha256(pdf.render_letter(lawyer_letter())))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONHASHSEED": "12345"}

    other = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)

    assert other.stdout == pdf.sha256(data)


def test_it_repeats_the_table_heading_and_numbers_every_page():
    content = collection_letter(lines=charge_lines(60))

    data = pdf.render_letter(content)

    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages >= 3
    texts = [text_of_page(data, number) for number in range(1, pages + 1)]
    for number, text in enumerate(texts, start=1):
        assert f"第{number}页/共{pages}页" in text
        assert "YG-CF-2026-000123" in text
    table_pages = [text for text in texts if "2025-04-15" in text or "2030-01-15" in text or "2038-10-15" in text]
    assert len(table_pages) >= 2
    for text in table_pages:
        assert "收费项目" in text and "欠缴金额" in text
    total = sum((line.outstanding + line.late_fee for line in content.lines), Decimal("0"))
    assert pdf.format_money(total) in text_of(data)


def test_it_wraps_long_words_inside_the_margins():
    long_link = "https://pay.example.com/" + "x" * 200
    content = collection_letter(paragraphs=("请访问" + long_link + "查看明细。",), payment_link=long_link)

    data = pdf.render_letter(content)

    if shutil.which("pdftotext"):
        boxes = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=data, capture_output=True,
                               check=True).stdout.decode()
        right_edges = [float(part.split('"')[1]) for part in boxes.split("xMax=")[1:]]
        assert max(right_edges) <= (210 - pdf.MARGIN) / 25.4 * 72 + 1  # in points
    assert long_link in text_of(data)


@pytest.mark.parametrize(("text", "width_in_chars", "lines"), [
    ("欠费合计人民币12,345.67元。", 9, ["欠费合计人民币", "12,345.67元。"]),
    ("一二三四五六七八，九十", 8, ["一二三四五六七", "八，九十"]),
    ("一二三四五六七（八九）", 8, ["一二三四五六七", "（八九）"]),
    ("请到front desk缴纳", 5, ["请到front", "desk缴纳"]),
])
def test_it_breaks_lines_between_characters_but_not_inside_numbers_or_before_closing_marks(text, width_in_chars,
                                                                                            lines):
    letter = pdf._LetterPDF(collection_letter())
    face = pdf.face_for(pdf.letter_fonts().regular)
    with pdf.tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "f.ttf")
        Path(path).write_bytes(face.font_bytes(set(text) | set("一")))
        letter.add_font(pdf.FAMILY, "", path)
        letter.font(12)
        width = letter.get_string_width("一") * width_in_chars

        assert pdf._wrap(letter, text, width, 0) == lines


def test_it_totals_the_lines_exactly():
    lines = charge_lines(7)

    sums = pdf.totals(lines)

    assert sums.amount == sum((line.amount for line in lines), Decimal("0")) == Decimal("9004.80")
    assert sums.paid == Decimal("300.00")
    assert sums.outstanding == Decimal("8704.80")
    assert sums.late_fee == sum((line.late_fee for line in lines), Decimal("0")) == Decimal("107.59")
    assert sums.due == Decimal("8812.39")


def test_it_refuses_float_money():
    line = replace(charge_lines(1)[0], outstanding=1286.4)

    with pytest.raises(MoneyError):
        pdf.render_letter(collection_letter(lines=(line,)))


@pytest.mark.parametrize(("amount", "upper"), [
    ("0.00", "零元整"), ("0.05", "伍分"), ("0.50", "伍角整"), ("1.05", "壹元零伍分"), ("10.00", "壹拾元整"),
    ("1001.00", "壹仟零壹元整"), ("1010.20", "壹仟零壹拾元贰角整"), ("10010.00", "壹万零壹拾元整"),
    ("100100.00", "壹拾万零壹佰元整"), ("1001000.00", "壹佰万壹仟元整"), ("10000100.00", "壹仟万零壹佰元整"),
    ("100000001.00", "壹亿零壹元整"), ("4900.08", "肆仟玖佰元零捌分"), ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
])
def test_it_writes_amounts_in_capital_numerals(amount, upper):
    assert pdf.rmb_upper(Decimal(amount)) == upper


@pytest.mark.parametrize(("amount", "text"), [("0", "0.00"), ("1234.5", "1,234.50"), ("1234567.89", "1,234,567.89")])
def test_it_formats_money_with_groups_and_fen(amount, text):
    assert pdf.format_money(Decimal(amount)) == text


def test_it_refuses_a_lawyer_letter_without_a_law_firm():
    with pytest.raises(DomainError) as refused:
        pdf.render_letter(lawyer_letter(law_firm=None))

    assert refused.value.code == "law_firm_missing"
    assert "律师事务所" in refused.value.zh and "law firm" in refused.value.en


def test_it_refuses_an_unknown_kind_and_a_letter_without_charges():
    with pytest.raises(DomainError):
        pdf.render_letter(collection_letter(kind="reminder"))
    with pytest.raises(DomainError):
        pdf.render_letter(collection_letter(lines=()))


def test_it_says_which_setting_to_set_when_no_font_is_found(settings):
    settings.ARREARS_PDF_FONT = "/nonexistent/NoSuchFont.ttc"
    with pytest.raises(DomainError) as refused:
        pdf.render_letter(collection_letter())
    assert "ARREARS_PDF_FONT" in refused.value.zh

    settings.ARREARS_PDF_FONT = ""
    settings.ARREARS_PDF_FONT_SEARCH = [("/nonexistent/NoSuchFont.ttc", "")]
    with pytest.raises(DomainError) as refused:
        pdf.render_letter(collection_letter())

    assert refused.value.code == "pdf_font_missing"
    assert "ARREARS_PDF_FONT" in refused.value.zh and "fonts-noto-cjk" in refused.value.zh
    assert "ARREARS_PDF_FONT" in refused.value.en and "fonts-noto-cjk" in refused.value.en


NOTO = "/usr/share/fonts/opentype/noto/"


@pytest.mark.parametrize(("name", "bold"), [("NotoSerifCJK-Regular.ttc", False), ("NotoSerifCJK-Bold.ttc", True),
                                            ("NotoSansCJK-Regular.ttc", False)])
def test_it_picks_the_simplified_chinese_face_of_a_collection(name, bold):
    if not os.path.exists(NOTO + name):
        pytest.skip("fonts-noto-cjk is not installed")

    assert pdf_fonts.pick_face(NOTO + name, bold=bold) == 2  # JP, KR, SC, TC, HK


def test_it_uses_the_configured_font(settings):
    if not (os.path.exists(NOTO + "NotoSansCJK-Regular.ttc") and shutil.which("pdffonts")):
        pytest.skip("fonts-noto-cjk or poppler-utils is not installed")
    settings.ARREARS_PDF_FONT = NOTO + "NotoSansCJK-Regular.ttc"
    settings.ARREARS_PDF_FONT_INDEX = None
    settings.ARREARS_PDF_FONT_BOLD = ""
    settings.ARREARS_PDF_FONT_SEARCH = []

    data = pdf.render_letter(collection_letter())

    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert fonts.count("NotoSansCJKSC ") == 2  # regular, and bold set in the regular face
    assert "Serif" not in fonts


def test_it_refuses_a_font_without_chinese(settings):
    latin = next((path for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                                    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
                  if os.path.exists(path)), None)
    if latin is None:
        pytest.skip("no Latin-only font installed")
    settings.ARREARS_PDF_FONT = latin

    with pytest.raises(DomainError) as refused:
        pdf.render_letter(collection_letter())

    assert refused.value.code == "pdf_font_not_cjk"


def test_it_cuts_the_font_again_for_text_it_did_not_foresee(monkeypatch):
    # given
    expected = pdf.render_letter(collection_letter())
    foreseen, renders = pdf._chars, []
    monkeypatch.setattr(pdf, "_chars", lambda content: {style: chars - {"业"}
                                                        for style, chars in foreseen(content).items()})
    render = pdf._render
    monkeypatch.setattr(pdf, "_render", lambda *args, **kwargs: renders.append(args[2]) or render(*args, **kwargs))

    # when
    data = pdf.render_letter(collection_letter())

    # then
    assert len(renders) == 2
    assert "业" not in renders[0][""] and "业" not in renders[0]["B"]
    assert "业" in renders[1][""] and "业" in renders[1]["B"]  # 业 is in the body and in the bold "致" line
    assert data == expected


def test_it_foresees_every_character_of_both_letters(monkeypatch):
    render, renders = pdf._render, []
    monkeypatch.setattr(pdf, "_render", lambda *args, **kwargs: renders.append(1) or render(*args, **kwargs))

    pdf.render_letter(collection_letter(lines=charge_lines(60)))
    pdf.render_letter(lawyer_letter())

    assert len(renders) == 2


def test_it_merges_letters_in_order():
    first = pdf.render_letter(collection_letter())
    second = pdf.render_letter(lawyer_letter())
    long = pdf.render_letter(collection_letter(number="YG-CF-2026-000999", lines=charge_lines(60)))
    counts = [len(PdfReader(io.BytesIO(data)).pages) for data in (first, second, long)]

    merged = pdf.merge([first, second, long])

    reader = PdfReader(io.BytesIO(merged))
    assert len(reader.pages) == sum(counts)
    assert pdf.merge([first, second, long]) == merged
    numbers = ["YG-CF-2026-000123"] * counts[0] + ["MLLS-2026-0042"] * counts[1] + ["YG-CF-2026-000999"] * counts[2]
    for number, page in enumerate(range(1, sum(counts) + 1)):
        assert numbers[number] in text_of_page(merged, page)


def test_it_zips_letters_under_their_names_with_fixed_times():
    first = pdf.render_letter(collection_letter())
    files = [("阳光花园-3-2-1201-催费函.pdf", first), ("阳光花园-5-1-0302-催费函.pdf", b"%PDF-other")]

    archive = pdf.zip_letters(files)

    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.namelist() == [name for name, _ in files]
        assert opened.read(files[0][0]) == first
        assert {info.date_time for info in opened.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert pdf.zip_letters(files) == archive


@pytest.mark.parametrize("name", ["../evil.pdf", "/etc/passwd", "a/../../b.pdf", ""])
def test_it_refuses_zip_names_that_escape_the_folder(name):
    with pytest.raises(DomainError):
        pdf.zip_letters([(name, b"x")])


def test_it_refuses_duplicate_zip_names():
    with pytest.raises(DomainError):
        pdf.zip_letters([("a.pdf", b"x"), ("a.pdf", b"y")])


def test_it_cites_the_articles_verbatim_and_never_threatens_services():
    for kind in pdf.KINDS:
        basis = pdf.default_legal_basis(kind)
        text = "".join(basis)
        assert any("第九百四十四条" in line for line in basis)
        assert "停止供电" not in text and "停水" not in text
    assert "诉讼时效期间为三年" in "".join(pdf.default_legal_basis("lawyer"))
