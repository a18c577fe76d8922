"""Court documents drafted from a matter: the figures, the parties, the court, the company's own text."""

import re
import subprocess
from datetime import date
from decimal import Decimal

import pytest

from arrears.core.errors import DomainError
from arrears.legal import documents
from arrears.legal.default_templates import DEFAULTS
from arrears.legal.models import DocumentTemplate
from arrears.notices.models import Letter
from tests.notices import test_pdf

from .conftest import TODAY, charge

COMPANY_BODY = "原告：{company_name}\n被告：{owner_name}（{unit}）\n　　本公司自拟：请求{total}。\n{court}"


def text_of(data: bytes) -> str:
    """The text without spaces and without the page footers (a sentence may run across a page)."""
    return re.sub(r"第\d+页/共\d+页", "", test_pdf.text_of(data))


def layout_text(data: bytes) -> str:
    """Poppler's text with the page's layout: a table row stays on one line."""
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def letter(matter, number: str, *, delivered_on: date | None, status: str) -> Letter:
    return Letter.objects.create(
        community=matter.community, case=matter.case, unit=matter.unit, owner=matter.owner, kind="collection",
        template_code="collection", number=number, issued_on=date(2025, 3, 1), deadline=date(2025, 3, 20),
        as_of=date(2025, 3, 1), principal=Decimal("600.00"), late_fee=Decimal("0.00"), pdf="letters/x.pdf",
        pdf_sha256="0" * 64, status=status, delivery_method="post" if delivered_on else "", delivered_on=delivered_on,
    )


def test_it_states_the_hand_computed_claim_in_the_complaint(desk):
    # given two charges of ¥300.00 due 2025-01-05 and 2025-02-05, 万分之五 a day after 15 grace days, capped at 30%;
    # claim date 2025-06-30: 176 − 15 = 161 days → 300 × 0.0005 × 161 = 24.15; 145 − 15 = 130 days → 19.50
    matter = desk["matter"]

    # when
    data = documents.render("complaint", matter, TODAY)

    # then
    text, layout = text_of(data), layout_text(data)
    assert "民事起诉状" in text
    assert "物业费¥600.00（大写：人民币陆佰元整）" in text
    assert "违约金¥43.65（大写：人民币肆拾叁元陆角伍分）" in text
    assert "暂计¥643.65（大写：人民币陆佰肆拾叁元陆角伍分）" in text
    assert re.search(r"2025-01-05\s+300\.00\s+161\s+24\.15\n", layout)
    assert re.search(r"2025-02-05\s+300\.00\s+130\s+19\.50\n", layout)
    assert re.search(r"合计\s+600\.00\s+43\.65\n", layout)
    assert "15日宽限期届满后，按每日万分之五计算至2025年6月30日，每期以该期欠费的30%为限" in text
    assert "2025年1月1日至2025年2月28日期间" in text and "自2025年7月1日起按同一标准计付至实际清偿之日止" in text


def test_it_names_the_parties_the_unit_and_the_court(desk):
    # given the matter before 上海市浦东新区人民法院
    matter = desk["matter"]

    # when
    text = text_of(documents.render("complaint", matter, TODAY))

    # then the defendant with the unit's address, the company with its own, the court after 此致
    assert "原告：阳光物业服务有限公司住所地：上海市浦东新区世纪大道100号" in text
    assert "被告：王小明公民身份号码：__________________住址：上海市浦东新区锦绣路88号阳光花园3栋1单元1201室" in text
    assert "此致上海市浦东新区人民法院具状人：阳光物业服务有限公司（盖章）2025年7月2日" in text
    assert "《物业服务合同》（编号：YG-2020-001）" in text
    assert "第九百四十四条" in text and "不得以未接受或者无需接受相关物业服务为由拒绝支付物业费" in text
    # the ID number on file is never printed: the lawyer fills it in
    assert "310101199002023456" not in text


def test_it_leaves_a_blank_for_a_court_not_yet_chosen(desk):
    # given a matter with no court yet
    matter = desk["matter"]
    matter.court = ""
    matter.save(update_fields=["court"])

    # when
    text = text_of(documents.render("complaint", matter, TODAY))

    # then
    assert "此致__________________人民法院" in text


def test_it_lists_the_delivered_demand_letters_only(desk):
    # given a letter delivered on 2025-03-10, another returned, a third delivered after the document's date
    matter = desk["matter"]
    letter(matter, "YG-CF-2025-000001", delivered_on=date(2025, 3, 10), status="delivered")
    letter(matter, "YG-CF-2025-000002", delivered_on=None, status="returned")
    letter(matter, "YG-CF-2025-000003", delivered_on=date(2025, 8, 1), status="delivered")

    # when
    text = text_of(documents.render("complaint", matter, TODAY))

    # then
    assert "原告于2025年3月10日（催费函，编号YG-CF-2025-000001）向被告送达书面催缴函件" in text
    assert "000002" not in text and "000003" not in text
    assert "催缴函件及送达凭证（1份）" in text


def test_it_drafts_a_payment_order_application_under_the_supervision_procedure(desk):
    # given
    matter = desk["matter"]

    # when
    text = text_of(documents.render("payment_order", matter, TODAY))

    # then
    assert "支付令申请书" in text
    assert "申请人：阳光物业服务有限公司" in text and "被申请人：王小明" in text
    assert "物业费¥600.00（大写：人民币陆佰元整）" in text and "违约金¥43.65（大写：人民币肆拾叁元陆角伍分）" in text
    assert "合计¥643.65（大写：人民币陆佰肆拾叁元陆角伍分）" in text
    assert "没有其他债务纠纷" in text and "不负有对待给付义务" in text
    assert "《中华人民共和国民事诉讼法》第十七章“督促程序”第二百二十五条" in text
    assert "此致上海市浦东新区人民法院" in text


def test_it_draws_the_evidence_list_as_a_numbered_table(desk):
    # given
    matter = desk["matter"]

    # when
    data = documents.render("evidence_list", matter, TODAY)

    # then seven categories in a court's reading order, numbered 1 to 7, with the source of each
    layout, text = layout_text(data), text_of(data)
    assert re.search(r"序号\s+证据名称\s+证据来源\s+证明内容\s+页码", layout)
    assert [int(number) for number in re.findall(r"^ *(\d) +\S", layout, re.M)] == [1, 2, 3, 4, 5, 6, 7]
    names = ["及收费标准依据", "房屋权属登记记录", "欠费明细表", "催缴函件及送达凭证", "催缴联系记录", "缴费记录", "投诉及报修处理记录"]
    assert [text.find(name) for name in names] == sorted(text.find(name) for name in names)
    assert "不动产登记机构／原告物业档案" in text
    assert "对方当事人：王小明（上海市浦东新区锦绣路88号阳光花园3栋1单元1201室）" in text


def test_the_company_template_replaces_the_default_for_that_company_only(desk):
    # given 阳光物业's own complaint
    documents.save_template(company=desk["company"], kind="complaint", title="起诉状", body=COMPANY_BODY,
                            staff=desk["lawyer"])

    # when
    own = text_of(documents.render("complaint", desk["matter"], TODAY))
    other = text_of(documents.render("complaint", desk["far_matter"], TODAY))

    # then
    assert own.startswith("起诉状原告：阳光物业服务有限公司被告：王小明（3栋1单元1201室）本公司自拟：请求¥643.65。上海市浦东新区人民法院")
    assert "事实与理由" not in own
    assert "本公司自拟" not in other and "事实与理由" in other


def test_it_renders_the_template_it_is_given(desk):
    # given a template passed in, not saved
    template = DocumentTemplate(company=desk["company"], kind="complaint", title="起诉状（稿）", body=COMPANY_BODY)

    # when
    text = text_of(documents.render("complaint", desk["matter"], TODAY, company_template=template))

    # then
    assert text.startswith("起诉状（稿）原告：阳光物业服务有限公司")
    with pytest.raises(DomainError):
        documents.render("payment_order", desk["matter"], TODAY, company_template=template)


def test_a_saved_default_serves_every_company_without_its_own(desk):
    # given a default saved in the database, and 翠湖物业 with its own
    DocumentTemplate.objects.create(kind="complaint", title="起诉状（集团默认）", body=COMPANY_BODY)
    documents.save_template(company=desk["other_company"], kind="complaint", title="翠湖起诉状", body=COMPANY_BODY,
                            staff=desk["stranger"])

    # when / then
    assert text_of(documents.render("complaint", desk["matter"], TODAY)).startswith("起诉状（集团默认）")
    assert text_of(documents.render("complaint", desk["far_matter"], TODAY)).startswith("翠湖起诉状")


@pytest.mark.parametrize("body", [
    "原告：{company_name}\n被告：{defendant_name}",  # unknown name
    "原告：{company_name}\n{ owner_name }",  # not a placeholder: would reach the court as typed
    "原告：{company_name}\n金额：{principal",  # unclosed
    "原告：{company_name}\n金额：｛principal｝",  # full-width braces
    "原告：{company_name}\n明细：{charges_table}",  # a table inside a line
])
def test_it_refuses_to_save_a_template_it_could_not_fill(desk, body):
    # when
    with pytest.raises(DomainError) as refused:
        documents.save_template(company=desk["company"], kind="complaint", title="起诉状", body=body, staff=desk["lawyer"])

    # then
    assert refused.value.code == "template_placeholder"
    assert not DocumentTemplate.objects.exists()


def test_it_refuses_an_unknown_placeholder_in_the_title_and_an_empty_body(desk):
    with pytest.raises(DomainError) as refused:
        documents.save_template(company=desk["company"], kind="complaint", title="{case_title}", body="正文",
                                staff=desk["lawyer"])
    assert refused.value.code == "template_placeholder"
    with pytest.raises(DomainError) as refused:
        documents.save_template(company=desk["company"], kind="complaint", title="起诉状", body=" \n", staff=desk["lawyer"])
    assert refused.value.code == "template_body"
    assert not DocumentTemplate.objects.exists()


def test_it_refuses_to_render_a_template_saved_around_the_check(desk):
    # given a row written without the check (a data migration, a shell)
    DocumentTemplate.objects.create(company=desk["company"], kind="complaint", title="起诉状", body="被告：{defendant}")

    # when / then no PDF with "{defendant}" in it
    with pytest.raises(DomainError) as refused:
        documents.render("complaint", desk["matter"], TODAY)
    assert refused.value.code == "template_placeholder"


def test_the_built_in_templates_pass_their_own_check():
    for kind, (title, body) in DEFAULTS.items():
        documents.check_template(kind=kind, title=title, body=body)
    assert set(DEFAULTS) == {"complaint", "payment_order", "evidence_list"}


def test_every_placeholder_is_filled_for_a_matter(desk):
    # given
    data = documents.document_data(desk["matter"], TODAY)

    # then the documented list and the filled values are the same names (blocks are drawn, not filled)
    assert set(data.values) == set(documents.PLACEHOLDERS) - documents.BLOCKS
    assert set(documents.example_data(desk["company"], TODAY).values) == set(data.values)


def test_it_renders_the_same_bytes_for_the_same_inputs(desk):
    # when
    first = documents.render("complaint", desk["matter"], TODAY)
    second = documents.render("complaint", desk["matter"], TODAY)

    # then
    assert first == second
    assert documents.render("complaint", desk["matter"], date(2025, 7, 3)) != first


def test_it_refuses_a_matter_with_nothing_to_claim(desk, db):
    # given a matter on charges the owner no longer owes (none of the charge ids exist)
    matter = desk["matter"]
    matter.claim_charges = [999999]
    matter.save(update_fields=["claim_charges"])

    # when / then
    with pytest.raises(DomainError) as refused:
        documents.render("complaint", matter, TODAY)
    assert refused.value.code == "claim_empty"


def test_it_refuses_a_claim_on_the_matter_that_the_ledger_does_not_bear_out(desk):
    # given the matter records its two charges at a principal of ¥500.00
    matter = desk["matter"]
    matter.claim_charges = [item.pk for item in desk["charges"]]
    matter.claim_principal, matter.claim_late_fee = Decimal("500.00"), Decimal("43.65")
    matter.save(update_fields=["claim_charges", "claim_principal", "claim_late_fee"])

    # when / then
    with pytest.raises(DomainError) as refused:
        documents.render("complaint", matter, TODAY)
    assert refused.value.code == "claim_mismatch"

    # and with the right figures it renders only the charges of the claim
    charge(matter.unit, matter.owner, start=date(2025, 3, 1), end=date(2025, 3, 31), due=date(2025, 3, 5))
    matter.claim_principal = Decimal("600.00")
    matter.save(update_fields=["claim_principal"])
    assert "¥643.65" in text_of(documents.render("complaint", matter, TODAY))


def test_it_refuses_a_claim_date_after_the_document(desk):
    matter = desk["matter"]
    matter.claim_as_of = date(2025, 8, 1)
    matter.save(update_fields=["claim_as_of"])
    with pytest.raises(DomainError) as refused:
        documents.render("complaint", matter, TODAY)
    assert refused.value.code == "claim_date"


@pytest.mark.parametrize(("rate", "text"), [
    (Decimal("0.0005"), "万分之五"), (Decimal("0.001"), "万分之十"), (Decimal("0.0015"), "万分之十五"),
    (Decimal("0.0025"), "万分之二十五"), (Decimal("0.00035"), "0.035%"), (Decimal("0.01"), "1%"),
])
def test_it_writes_the_daily_rate_as_contracts_do(rate, text):
    assert documents.daily_rate_text(rate) == text


def test_it_refuses_characters_the_font_cannot_draw_rather_than_drop_them(desk):
    # given an owner whose name holds a character beyond the font, and a template with an emoji
    owner = desk["owner"]
    owner.name = "王\U0002a6a5明"
    owner.save(update_fields=["name"])

    # when / then
    with pytest.raises(DomainError) as refused:
        documents.render("complaint", desk["matter"], TODAY)
    assert refused.value.code == "pdf_missing_glyph" and "\U0002a6a5" in refused.value.zh
    with pytest.raises(DomainError) as refused:
        documents.save_template(company=desk["company"], kind="complaint", title="起诉状", body="原告：{company_name} 😀",
                                staff=desk["lawyer"])
    assert refused.value.code == "pdf_missing_glyph"
    assert not DocumentTemplate.objects.exists()


def test_a_value_with_braces_is_printed_as_it_is_never_filled_again(desk):
    # given an owner's name that looks like a placeholder
    owner = desk["owner"]
    owner.name = "王{total}"
    owner.save(update_fields=["name"])

    # when
    text = text_of(documents.render("complaint", desk["matter"], TODAY))

    # then
    assert "被告：王{total}" in text


def test_a_long_claim_runs_over_pages_with_the_table_heading_repeated(desk):
    # given 24 more monthly charges: 26 lines in all
    matter = desk["matter"]
    for month in range(24):
        year, index = 2023 + month // 12, month % 12 + 1
        charge(matter.unit, matter.owner, start=date(year, index, 1), end=date(year, index, 28), due=date(year, index, 5))

    # when
    data = documents.render("complaint", matter, TODAY)

    # then
    pages = [test_pdf.text_of_page(data, number) for number in (1, 2)]
    assert all("收费项目所属期间应缴日期欠缴本金计费天数" in page for page in pages)
    # 2023-10-05 to 2025-06-30 is 634 days, 619 after the grace days: 300 × 0.0005 × 619 = 92.85, capped at 90.00
    assert "2023-10-05300.0061990.00" in pages[1]
    assert "2023年1月1日至2025年2月28日期间" in text_of(data)
    assert data == documents.render("complaint", matter, TODAY)
