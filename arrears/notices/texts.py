"""Notice templates: the whitelisted placeholders, the default Chinese texts, checks and rendering.

The defaults were written for this project from DESIGN.md §2: polite, factual, with a way to
pay and a number to call; letters cite the contract and the law and name a deadline, and
never threaten anything the law forbids (no cutting of water, power, heat or gas: 民法典第944条).
Every text a company edits passes `check_template` first: an unknown placeholder, or a neutral
text that would reveal a debt to a third party, is refused when saved, never at send time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.collection import rules
from arrears.collection.models import Channel
from arrears.collection.scripts import placeholders_in, render_script
from arrears.core.errors import DomainError

from .models import TEMPLATE_CHANNELS, NoticeTemplate

PLACEHOLDERS = {
    "owner_name": ("业主称呼", "the owner as addressed (surname and title)"),
    "community": ("小区", "the community"),
    "room": ("房号", "the unit"),
    "company": ("物业公司", "the property-management company"),
    "company_phone": ("服务中心电话", "the service centre's telephone"),
    "amount": ("应缴合计（元）", "everything owed, in yuan"),
    "principal": ("欠费本金（元）", "unpaid fees, in yuan"),
    "late_fee": ("违约金（元）", "late fee, in yuan"),
    "months": ("欠费月数（不足一个月时为“不足1”）", "whole months in arrears (a word for under one month)"),
    "arrears_period": ("已逾期时长（如“2 个月”，不足一个月按天：“12 天”）",
                       "time overdue: whole months, or days under one month"),
    "oldest_due": ("最早欠费到期日", "oldest unpaid due date"),
    "due_date": ("到期日", "the due date the message is about"),
    "payment_link": ("缴费链接", "statement and payment link"),
    "promise_date": ("约定缴费日期", "the date the owner agreed to pay"),
    "promise_amount": ("约定缴费金额（元）", "the amount the owner agreed to pay"),
    "deadline": ("函件缴费期限", "the letter's deadline"),
    "as_of": ("金额截至日期", "the date the amounts are as of"),
    "letter_number": ("函号", "the letter number"),
    "law_firm": ("律师事务所", "the law firm (lawyer letters)"),
    "reminders": ("此前提醒记录（函件用：有记录时列出日期和方式，无记录时为空）",
                  "earlier reminders on record, with dates and channels (letters only; empty when there are none)"),
}
# What a template code is called on a page (the outbox, the template list): a code is no word for
# staff. A company's own code has no label here and shows as itself.
TEMPLATE_LABELS = {
    "pre_due": _("到期前提醒"), "pre_due_credit_exhausted": _("预存用完提醒"), "overdue": _("逾期提醒"),
    "overdue_second": _("再次逾期提醒"), "promise_reminder": _("承诺缴费前一日提醒"),
    "neutral_contact": _("寻找业主（第三方中性）"), "thanks_payment": _("缴费致谢"), "satisfaction": _("满意度回访"),
    "collection_letter": _("催费函"), "collection_letter_2": _("催费函（第二次）"), "lawyer_letter": _("律师函"),
}
# The sending services, as staff know them (`Backend.name`).
PROVIDER_LABELS = {
    "aliyun": _("阿里云短信"), "tencent": _("腾讯云短信"), "email": _("邮件服务器"), "file": _("写入文件（演示）"),
    "console": _("控制台（开发）"), "wechat": _("微信公众号"),
}


def template_label(code: str) -> str:
    return str(TEMPLATE_LABELS.get(code, code))


def provider_label(name: str) -> str:
    return str(PROVIDER_LABELS.get(name, name))


# Filled from the records at issue only: a message has no such sentence to say.
LETTER_ONLY_PLACEHOLDERS = frozenset({"reminders"})
# What may be said to a third party: who is looking for the owner and how to call back. Nothing
# of amounts, dates or links (个人信息保护法: no disclosure of the debt to anyone but the owner).
NEUTRAL_PLACEHOLDERS = frozenset({"owner_name", "community", "room", "company", "company_phone"})
MESSAGE_CHANNELS = frozenset({Channel.SMS, Channel.WECHAT, Channel.EMAIL})
LETTER_CHANNELS = frozenset({Channel.LETTER, Channel.LAWYER_LETTER})

EXAMPLE_CONTEXT = {
    "owner_name": "王先生", "community": "阳光花园", "room": "3栋1单元1201", "company": "示范物业",
    "company_phone": "0755-88886200", "amount": "1236.40", "principal": "1200.00", "late_fee": "36.40",
    "months": "6", "arrears_period": "6 个月", "oldest_due": "2026-05-05", "due_date": "2026-12-05", "payment_link": "https://pay.example.cn/s/Ab3dE9",
    "promise_date": "2026-12-20", "promise_amount": "600.00", "deadline": "2026-12-15", "as_of": "2026-11-30",
    "letter_number": "CF-2026-000123", "law_firm": "示范律师事务所",
    "reminders": "此前已于2026年10月9日（短信）、2026年10月16日（电话）、2026年11月2日（上门）提醒您。",
}

# SMS in mainland China: up to 70 characters (signature included) is one message; a longer one
# is split into parts of 67, each billed as one (the providers' published rule).
SMS_SINGLE = 70
SMS_PART = 67

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")

_LETTER_1 = """\
您好！感谢您一直以来对{company}{community}服务中心工作的理解与支持。

根据您签署的《前期物业服务合同》（或《物业服务合同》）的约定，以及《中华人民共和国民法典》第九百四十四条“业主应当按照约定向物业服务人支付物业费”的规定，按时缴纳物业服务费是每一位业主的义务。经核对，截至{as_of}，您名下{community}{room}尚有物业服务费等费用未缴，合计人民币{amount}元（其中违约金{late_fee}元），明细见下表。{reminders}

若您对收费或服务有任何意见，请在收到本函后与我们联系，我们将认真核实并当面答复；若有经济上的困难，也可与我们商定分期缴纳的方案。

请您于{deadline}前缴清上述费用。感谢您的理解与配合。"""

_LETTER_2 = """\
您好！我司曾就您名下{community}{room}的物业服务费向您发出催费函，但截至{as_of}，上述费用仍未缴纳。

根据《物业服务合同》的约定及《中华人民共和国民法典》第九百四十四条的规定，业主应当按照约定支付物业费；业主违反约定逾期不支付物业费的，物业服务人可以催告其在合理期限内支付。现再次书面催告：您尚欠物业服务费等费用合计人民币{amount}元（其中违约金{late_fee}元），明细见下表。

请您于{deadline}前缴清上述费用。逾期仍未缴纳的，我司将依法通过诉讼途径主张权利。如对费用有异议或有实际困难，请尽快与服务中心联系，我们愿意与您沟通解决。"""

_LAWYER = """\
{law_firm}受{company}（以下简称“委托人”）委托，就您拖欠{community}{room}物业服务费一事，郑重函告如下：

一、委托人依据物业服务合同为{community}提供物业服务。根据合同约定及《中华人民共和国民法典》第九百三十七条、第九百四十四条的规定，业主应当按照约定向物业服务人支付物业费，业主已经接受物业服务的，不得以未接受或者无需接受相关物业服务为由拒绝支付。

二、经委托人核对，截至{as_of}，您名下{room}尚欠物业服务费等费用合计人民币{amount}元（其中违约金{late_fee}元），明细见下表。{reminders}您至今未予缴纳。

三、请您于收到本函之日起十四日内（即{deadline}前）向委托人缴清上述费用。逾期仍未缴纳的，本所将依委托人的授权，依法向人民法院提起诉讼，届时您除应支付所欠费用及违约金外，还可能承担诉讼费等相关费用。

四、如您对上述费用有异议，请于上述期限内携相关材料与委托人或本所联系。

特此函告。"""

DEFAULT_TEMPLATES = [
    {"code": "pre_due", "channel": Channel.SMS, "name": "到期前提醒", "body":
        "尊敬的{owner_name}：您在{community}{room}的物业费将于{due_date}到期，应缴{amount}元。"
        "查看明细并缴费：{payment_link} 如有疑问请致电{company_phone}。"},
    {"code": "pre_due_credit_exhausted", "channel": Channel.SMS, "name": "预存用完提醒", "body":
        "尊敬的{owner_name}：您在{community}{room}预存的物业费已用完，{due_date}到期的{amount}元需续缴。"
        "查看明细并缴费：{payment_link} 咨询电话{company_phone}。"},
    {"code": "overdue", "channel": Channel.SMS, "name": "逾期提醒", "body":
        "尊敬的{owner_name}：您在{community}{room}的物业费{amount}元已于{oldest_due}到期，可能您事务繁忙忘记了。"
        "查看明细并缴费：{payment_link} 如已缴纳请忽略，疑问请致电{company_phone}。"},
    {"code": "overdue_second", "channel": Channel.SMS, "name": "再次逾期提醒", "body":
        "尊敬的{owner_name}：您在{community}{room}尚有物业费{amount}元（已逾期 {arrears_period}）未缴。"
        "如对费用或服务有意见，欢迎致电{company_phone}，我们当面为您解决。缴费：{payment_link}"},
    {"code": "promise_reminder", "channel": Channel.SMS, "name": "承诺缴费前一日提醒", "body":
        "尊敬的{owner_name}：按您与我们的约定，{room}的物业费{promise_amount}元请于{promise_date}缴纳。"
        "缴费：{payment_link} 感谢您的支持。"},
    {"code": "neutral_contact", "channel": Channel.SMS, "name": "寻找业主（第三方中性）", "neutral": True, "body":
        "您好，这里是{company}{community}服务中心，有事需与{owner_name}联系，烦请转告其致电{company_phone}，谢谢！"},
    {"code": "thanks_payment", "channel": Channel.SMS, "name": "缴费致谢", "body":
        "尊敬的{owner_name}：您{community}{room}的物业费已收到，感谢您对我们工作的支持！"
        "如对服务有任何意见或建议，欢迎致电{company_phone}。"},
    {"code": "satisfaction", "channel": Channel.SMS, "name": "满意度回访", "body":
        "尊敬的{owner_name}：感谢您一直以来的支持。您对我们近期的服务满意吗？"
        "欢迎致电{company_phone}告诉我们您的意见，我们会认真改进。"},
    {"code": "overdue", "channel": Channel.WECHAT, "name": "逾期提醒（微信）", "body":
        "尊敬的{owner_name}：您在{community}{room}的物业费{amount}元已于{oldest_due}到期。"
        "点击查看明细并缴费：{payment_link}。如已缴纳请忽略，疑问请致电{company_phone}。"},
    # WeChat first (the run sends a ladder's SMS by WeChat to owners with a bound openid): the same
    # words, each set to its approved WeChat template by the provider code "wechat".
    {"code": "pre_due", "channel": Channel.WECHAT, "name": "到期前提醒（微信）", "body":
        "尊敬的{owner_name}：您在{community}{room}的物业费将于{due_date}到期，应缴{amount}元。"
        "点击查看明细并缴费：{payment_link}。如有疑问请致电{company_phone}。"},
    {"code": "pre_due_credit_exhausted", "channel": Channel.WECHAT, "name": "预存用完提醒（微信）", "body":
        "尊敬的{owner_name}：您在{community}{room}预存的物业费已用完，{due_date}到期的{amount}元需续缴。"
        "点击查看明细并缴费：{payment_link}。咨询电话{company_phone}。"},
    {"code": "overdue_second", "channel": Channel.WECHAT, "name": "再次逾期提醒（微信）", "body":
        "尊敬的{owner_name}：您在{community}{room}尚有物业费{amount}元（已逾期 {arrears_period}）未缴。"
        "如对费用或服务有意见，欢迎致电{company_phone}，我们当面为您解决。缴费：{payment_link}"},
    {"code": "promise_reminder", "channel": Channel.WECHAT, "name": "承诺缴费前一日提醒（微信）", "body":
        "尊敬的{owner_name}：按您与我们的约定，{room}的物业费{promise_amount}元请于{promise_date}缴纳。"
        "缴费：{payment_link} 感谢您的支持。"},
    {"code": "thanks_payment", "channel": Channel.WECHAT, "name": "缴费致谢（微信）", "body":
        "尊敬的{owner_name}：您{community}{room}的物业费已收到，感谢您对我们工作的支持！"
        "如对服务有任何意见或建议，欢迎致电{company_phone}。"},
    {"code": "satisfaction", "channel": Channel.WECHAT, "name": "满意度回访（微信）", "body":
        "尊敬的{owner_name}：感谢您一直以来的支持。您对我们近期的服务满意吗？"
        "欢迎致电{company_phone}告诉我们您的意见，我们会认真改进。"},
    {"code": "overdue", "channel": Channel.EMAIL, "name": "逾期提醒（邮件）", "subject": "{community}{room}物业费缴费提醒",
     "body": "尊敬的{owner_name}：\n\n您好！您在{community}{room}的物业费{amount}元已于{oldest_due}到期，至今已逾期 {arrears_period}，尚未缴纳。"
             "您可以打开以下链接查看费用明细并在线缴费：\n{payment_link}\n\n如已缴纳请忽略本邮件；"
             "如对费用或服务有任何疑问，请致电{company_phone}。\n\n{company}"},
    {"code": "pre_due", "channel": Channel.EMAIL, "name": "到期前提醒（邮件）", "subject": "{community}{room}物业费即将到期",
     "body": "尊敬的{owner_name}：\n\n您好！您在{community}{room}的物业费将于{due_date}到期，应缴{amount}元。"
             "查看明细并缴费：\n{payment_link}\n\n如有疑问请致电{company_phone}。\n\n{company}"},
    {"code": "collection_letter", "channel": Channel.LETTER, "name": "催费函", "subject": "催费函", "body": _LETTER_1},
    {"code": "collection_letter_2", "channel": Channel.LETTER, "name": "催费函（第二次）", "subject": "催费函", "body": _LETTER_2},
    {"code": "lawyer_letter", "channel": Channel.LAWYER_LETTER, "name": "律师函", "subject": "律师函", "body": _LAWYER},
]
# What the default letters said before they stated the record: "reminded many times by phone and
# SMS" whatever the record held. A company's copy of these sentences is read as {reminders} (the
# reminders on record, or nothing), and a template that says them cannot be saved.
UNRECORDED_CLAIMS = {
    "此前我们已通过电话、短信等方式多次提醒。": "{reminders}",
    "委托人已多次以电话、上门及书面催费函等方式催告，您至今未予缴纳。": "{reminders}您至今未予缴纳。",
}

DEFAULT_PAYMENT_METHODS = (
    "到{community}服务中心前台缴纳（现金、银行卡、微信、支付宝）",
    "打开缴费链接或扫描服务中心公示的二维码在线缴纳",
    "银行转账至本函所列账户，请在附言中注明房号",
)
ONLINE_METHOD, BANK_METHOD = DEFAULT_PAYMENT_METHODS[1], DEFAULT_PAYMENT_METHODS[2]


# What the default messages say about paying online, and what they say instead when no online
# provider is configured (the link then shows the statement and where to pay).
ONLINE_PROMISES = {"查看费用明细并在线缴费": "查看费用明细和缴费方式"}


def online_payment() -> bool:
    """Whether owners can pay online at all: some provider is configured."""
    return bool(getattr(settings, "PORTAL_PAYMENT_PROVIDERS", {}))


def without_online_promise(text: str, *, online: bool) -> str:
    """A message text that promises online payment only when there is one."""
    if not online:
        for promise, replacement in ONLINE_PROMISES.items():
            text = text.replace(promise, replacement)
    return text


def offered_methods(lines: str, *, online: bool, bank: bool) -> list[str]:
    """A letter's payment-method lines, without the default ones it cannot keep: a letter is
    evidence of what the owner was told, so it promises online payment only when a provider is
    configured and a transfer "to the account listed" only when it lists one."""
    dropped = {line for line, kept in ((ONLINE_METHOD, online), (BANK_METHOD, bank)) if not kept}
    return [line.strip() for line in lines.splitlines() if line.strip() and line.strip() not in dropped]


def render(text: str, context: Mapping) -> str:
    """Fill plain {name} fields only (the scripts' rule): any other brace is shown as typed, never evaluated."""
    return render_script(text, {key: "" if value is None else str(value) for key, value in context.items()})


def without_unrecorded_claims(text: str) -> str:
    """A letter text with each old blanket claim of reminders replaced by {reminders}."""
    for claim, replacement in UNRECORDED_CLAIMS.items():
        text = text.replace(claim, replacement)
    return text


def sms_length(text: str, sign_name: str = "") -> tuple[int, int]:
    """(characters, billed parts) of an SMS as the owner's phone receives it, signature included."""
    length = len(text) + (len(sign_name) + 2 if sign_name else 0)  # 【签名】
    if length <= SMS_SINGLE:
        return length, 1 if length else 0
    return length, math.ceil(length / SMS_PART)


def paragraphs(text: str) -> list[str]:
    """A letter body's paragraphs: blocks separated by a blank line, inner line breaks joined."""
    return [" ".join(line.strip() for line in block.splitlines()).strip()
            for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]


def check_template(*, code: str, channel: str, name: str, body: str, subject: str = "", neutral: bool = False,
                   provider_codes: Mapping | None = None) -> None:
    """Refuse a template that would be wrong to save; the error's `code` names the offending field."""
    if not code or len(code) > 60 or not _SLUG.match(code):
        raise DomainError("模板代码只能由字母、数字、下划线或连字符组成，且不超过 60 个字符",
                          "a template code is letters, digits, underscores or hyphens, at most 60 characters",
                          code="template_code")
    if channel not in dict(TEMPLATE_CHANNELS):
        raise DomainError(f"模板渠道无效：{channel}", f"unknown template channel: {channel}", code="template_channel")
    if not name.strip() or len(name) > 100:
        raise DomainError("模板名称不能为空，且不超过 100 个字", "a template name is required, at most 100 characters",
                          code="template_name")
    if not body.strip():
        raise DomainError("模板内容不能为空", "a template body is required", code="template_body")
    used = placeholders_in(body) + placeholders_in(subject)
    unknown = [name for name in dict.fromkeys(used) if name not in PLACEHOLDERS]
    if unknown:
        found = "、".join("{" + name + "}" for name in unknown)
        allowed = "、".join("{" + name + "}" for name in PLACEHOLDERS)
        raise DomainError(f"模板含未知占位符：{found}。可用的占位符：{allowed}",
                          f"unknown placeholders in the template: {found.replace('、', ', ')}; allowed: {allowed.replace('、', ', ')}", code="template_placeholder")
    letter_only = [name for name in dict.fromkeys(used) if name in LETTER_ONLY_PLACEHOLDERS]
    if letter_only and channel not in LETTER_CHANNELS:
        found = "、".join("{" + name + "}" for name in letter_only)
        raise DomainError(f"{found} 只能用于函件", f"{found.replace('、', ', ')} may be used in letters only", code="template_placeholder")
    claims = [claim for claim in UNRECORDED_CLAIMS if claim in body]
    if claims:
        raise DomainError(f"函件不得笼统声称已多次提醒（“{claims[0]}”）：请改用 {{reminders}}，由系统按记录列出此前提醒的日期和方式",
                          f"a letter may not claim reminders in general terms (\"{claims[0]}\"): use {{reminders}}, "
                          "which lists the dates and channels on record", code="template_body")
    if neutral:
        if channel not in MESSAGE_CHANNELS:
            raise DomainError("函件不能设为中性模板", "a letter cannot be a neutral template", code="template_neutral")
        revealing = [name for name in dict.fromkeys(used) if name not in NEUTRAL_PLACEHOLDERS]
        if revealing:
            found = "、".join("{" + name + "}" for name in revealing)
            raise DomainError(f"中性模板不得使用金额、日期或链接类占位符：{found}",
                              f"a neutral template may not use amount, date or link placeholders: {found.replace('、', ', ')}",
                              code="neutral_text")
        rules.validate_neutral_text(subject + "\n" + body)
    if channel == Channel.SMS and len(render(body, EXAMPLE_CONTEXT)) > 500:
        raise DomainError("短信内容过长（示例超过 500 字）", "the SMS is too long (over 500 characters with example values)",
                          code="template_body")
    for provider, value in (provider_codes or {}).items():
        if provider not in ("aliyun", "tencent") or not isinstance(value, str) or not value.strip():
            raise DomainError(f"服务商模板编号无效：{provider}", f"invalid provider template code: {provider}",
                              code="template_provider")


def save_template(*, code: str, channel: str, name: str, body: str, subject: str = "", neutral: bool = False,
                  community=None, provider_codes: Mapping | None = None, payment_methods: str = "",
                  active: bool = True, staff=None) -> NoticeTemplate:
    """Create or update a community's (or the default) template after checking it."""
    check_template(code=code, channel=channel, name=name, body=body, subject=subject, neutral=neutral,
                   provider_codes=provider_codes)
    with transaction.atomic():
        template, _ = NoticeTemplate.objects.update_or_create(
            community=community, code=code, channel=channel,
            defaults={"name": name, "body": body, "subject": subject, "neutral": neutral, "active": active,
                      "provider_codes": dict(provider_codes or {}), "payment_methods": payment_methods,
                      "updated_by": staff},
        )
    return template


def ensure_templates() -> int:
    """Create the default templates that are missing; edits a company made are kept."""
    existing = set(NoticeTemplate.objects.filter(community__isnull=True).values_list("code", "channel"))
    missing = [
        NoticeTemplate(code=row["code"], channel=str(row["channel"]), name=row["name"], subject=row.get("subject", ""),
                       body=row["body"], neutral=row.get("neutral", False),
                       payment_methods="\n".join(DEFAULT_PAYMENT_METHODS) if row["channel"] in LETTER_CHANNELS else "")
        for row in DEFAULT_TEMPLATES if (row["code"], str(row["channel"])) not in existing
    ]
    NoticeTemplate.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def template_for(community_id: int, code: str, channel: str) -> NoticeTemplate | None:
    """The community's own active template, else the company default; None if neither exists."""
    rows = NoticeTemplate.objects.filter(code=code, channel=channel, active=True).filter(
        Q(community_id=community_id) | Q(community__isnull=True)
    )
    found = sorted(rows, key=lambda t: t.community_id is None)
    return found[0] if found else None
