"""The built-in texts of the court documents: 民事起诉状, 支付令申请书 and 证据清单.

A company's own text (DocumentTemplate with its company) replaces one of these; a template saved
with no company replaces the built-in text for every company that has none of its own.

The markup is what a lawyer types in a word processor, kept to four rules (documents.py reads it):
a line is a paragraph; leading full-width spaces (　　) indent its first line by that many characters;
a line starting "## " is a bold heading; a line starting "> " is set to the right (the signature and
date). {charges_table}, {evidence_items} and {evidence_table} stand alone on their line.

The law cited: 民法典第九百四十四条 (the duty to pay, no defence of not using the service, the demand
and reasonable period), 第五百七十七条 and 第五百八十五条 (liability for breach, the agreed late fee);
民事诉讼法 (2023年修正) 第十七章"督促程序" 第二百二十五条 (the conditions of a payment order). The
Supreme People's Court's interpretation on property-service disputes is not cited by article: its
2009 articles on written demand and on not using the service were deleted in the 2020 revision
(法释〔2020〕17号); both now stand in 民法典第九百四十四条.
"""

COMPLAINT_TITLE = "民事起诉状"
COMPLAINT = """原告：{company_name}
住所地：{company_address}
法定代表人：{legal_representative}
联系电话：{company_phone}

被告：{owner_name}
{owner_id_label}：{owner_id_number}
住址：{unit_address}

案由：物业服务合同纠纷

## 诉讼请求
　　1. 判令被告向原告支付{period_from}至{period_to}期间拖欠的{charge_types}{principal}（大写：{principal_upper}）；
　　2. 判令被告向原告支付违约金{late_fee}（大写：{late_fee_upper}）。违约金依物业服务合同约定，以各期欠费为基数，自各期应缴日期起{grace_days}日宽限期届满后，按每日{daily_rate}计算至{claim_date}，每期以该期欠费的{late_fee_cap}为限（计算明细见下表）；并自{claim_date_next}起按同一标准计付至实际清偿之日止，仍以上述上限为限；
　　3. 本案诉讼费用由被告承担。
　　以上第1、2项暂计{total}（大写：{total_upper}）。
{charges_table}

## 事实与理由
　　原告系{community}的物业服务人，依据{contract}为该小区提供物业服务。被告系{unit_address}房屋的业主，物业服务合同对被告具有法律约束力，被告应当按照约定缴纳物业费。
　　原告已按照合同约定和有关规定提供物业服务，被告自{period_from}起未缴纳{charge_types}，截至{claim_date}共计欠缴{principal}，按合同约定应付违约金{late_fee}。{demands}
　　《中华人民共和国民法典》第九百四十四条规定，业主应当按照约定向物业服务人支付物业费；物业服务人已经按照约定和有关规定提供服务的，业主不得以未接受或者无需接受相关物业服务为由拒绝支付物业费；业主违反约定逾期不支付物业费的，物业服务人可以催告其在合理期限内支付，合理期限届满仍不支付的，物业服务人可以提起诉讼。被告是否在该房屋居住、是否使用相关服务，均不影响其缴纳物业费的义务。
　　综上，根据《中华人民共和国民法典》第五百七十七条、第五百八十五条、第九百四十四条的规定，原告特向贵院提起诉讼，请求依法判如所请。

## 证据清单
{evidence_items}

　　此致
{court}

> 具状人：{company_name}（盖章）
> {date}

附：本起诉状副本1份；证据材料1套。"""

PAYMENT_ORDER_TITLE = "支付令申请书"
PAYMENT_ORDER = """申请人：{company_name}
住所地：{company_address}
法定代表人：{legal_representative}
联系电话：{company_phone}

被申请人：{owner_name}
{owner_id_label}：{owner_id_number}
住址：{unit_address}

## 请求事项
　　1. 请求贵院向被申请人发出支付令，督促被申请人向申请人支付{period_from}至{period_to}期间拖欠的{charge_types}{principal}（大写：{principal_upper}）；
　　2. 督促被申请人向申请人支付截至{claim_date}按物业服务合同约定计算的违约金{late_fee}（大写：{late_fee_upper}）（计算明细见下表）；
　　3. 本案申请费由被申请人承担。
　　以上第1、2项合计{total}（大写：{total_upper}）。
{charges_table}

## 事实与理由
　　申请人系{community}的物业服务人，依据{contract}为该小区提供物业服务。被申请人系{unit_address}房屋的业主，应当按照约定缴纳物业费。申请人已按照约定提供物业服务，被申请人自{period_from}起未缴纳{charge_types}，截至{claim_date}共计欠缴{principal}，按合同约定应付违约金{late_fee}。{demands}
　　上述债务为已到期、数额确定的金钱债务。申请人对被申请人不负有对待给付义务，申请人与被申请人之间没有其他债务纠纷，支付令能够送达被申请人。
　　根据《中华人民共和国民法典》第九百四十四条、《中华人民共和国民事诉讼法》第十七章“督促程序”第二百二十五条的规定，特向贵院申请支付令，请予支持。

## 证据
{evidence_items}

　　此致
{court}

> 申请人：{company_name}（盖章）
> {date}"""

EVIDENCE_LIST_TITLE = "证据清单"
EVIDENCE_LIST = """提交人：{company_name}
对方当事人：{owner_name}（{unit_address}）
案由：物业服务合同纠纷
案号：{court_case_number}
{evidence_table}

> 提交人：{company_name}（盖章）
> {date}"""

DEFAULTS = {
    "complaint": (COMPLAINT_TITLE, COMPLAINT),
    "payment_order": (PAYMENT_ORDER_TITLE, PAYMENT_ORDER),
    "evidence_list": (EVIDENCE_LIST_TITLE, EVIDENCE_LIST),
}
