"""One language per response on the staff site: wholly English under `en`, wholly Chinese under `zh-hans`.

The staff pages are rendered as an admin and as a manager over seeded data (a case with tasks and
messages, a blocked and a rescheduled message, an import report stored in both the new and the old
form). Under `en` no Chinese may remain once the data values are taken out: names, addresses, the
company's template texts and scripts, the workbook's own sheet and column names (marked lang="zh-hans").
Under `zh-hans` no bilingual "中文 / english" pair and no English sentence of the catalogue may show.
"""

import ast
import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from arrears.collection.models import Case, ContactAttempt, MessageStatus, OutgoingMessage, Task
from arrears.collection.run import run_collection
from arrears.core import roles
from arrears.core.i18n import one_language
from arrears.estate.models import (
    Building,
    Community,
    Company,
    Contact,
    Owner,
    ServiceTicket,
    StaffScope,
    TicketKind,
    Unit,
    Vehicle,
    mask_name,
)
from arrears.ledger.import_files import RowError
from arrears.ledger.models import ImportJob, ImportJobKind, ImportJobStatus
from arrears.notices.models import EventKind, MessageEvent, NoticeTemplate
from arrears.notices.texts import ensure_templates
from tests import factories

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
PAIR = re.compile(r"[\u4e00-\u9fff][^/\n]*\s/\s[A-Za-z]{2,}")
PO = Path(settings.BASE_DIR) / "arrears" / "locale" / "en" / "LC_MESSAGES" / "django.po"
SKIPPED_TAGS = {"script", "style", "pre", "textarea", "option"}  # code, the company's texts, lists of data
ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "data-busy", "data-label")


class _Text(HTMLParser):
    """The page's visible words: text nodes and the attributes a user reads, outside data islands."""

    def __init__(self, language: str):
        super().__init__()
        self.language = language
        self.texts: list[str] = []
        self.stack: list[tuple[str, bool]] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # another language on purpose (the language switch, the workbook's own names) or a data island
        skip = (tag in SKIPPED_TAGS or attrs.get("lang", self.language) != self.language
                or "script-text" in (attrs.get("class") or ""))
        if not self._skipping() and not skip:
            self.texts.extend(attrs[name] for name in ATTRIBUTES if attrs.get(name))
        if tag not in {"br", "input", "img", "meta", "link", "hr", "wbr"}:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        attrs = dict(attrs)
        if not self._skipping() and attrs.get("lang", self.language) == self.language:
            self.texts.extend(attrs[name] for name in ATTRIBUTES if attrs.get(name))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            self.texts.append(data.strip())


def visible_texts(html: str, language: str) -> list[str]:
    parser = _Text(language)
    parser.feed(html)
    return parser.texts


def data_values() -> list[str]:
    """What the company and its owners wrote: shown as written in any language. Longest first."""
    values = set()
    for model, fields in [
        (Company, ["name"]), (Community, ["name"]), (Building, ["name"]), (Owner, ["name"]),
        (Contact, ["name", "value"]), (Vehicle, ["plate"]),
        (NoticeTemplate, ["name", "subject", "body"]), (ContactAttempt, ["notes"]), (ServiceTicket, ["summary", "resolution"]),
    ]:
        for field in fields:
            values.update(v for v in model.objects.values_list(field, flat=True) if v)
    values.update(unit.label for unit in Unit.objects.select_related("building"))
    values.update(mask_name(name) for name in Owner.objects.values_list("name", flat=True))  # the front desk's view
    return sorted(values, key=len, reverse=True)


def without_data(text: str, values: list[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, "")
    return text


def po_entries() -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of every entry of the English catalogue but its header."""
    entries, block = [], []
    for line in PO.read_text(encoding="utf-8").split("\n\n"):
        block = line.strip().splitlines()
        if not block:
            continue
        fuzzy = any(row.startswith("#,") and "fuzzy" in row for row in block)
        fields, current = {}, None
        for row in block:
            if row.startswith("#"):
                continue
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?|msgctxt) (".*")$', row)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif row.startswith('"') and current:
                fields[current] += ast.literal_eval(row)
        if fields.get("msgid"):
            translated = [value for key, value in fields.items() if key.startswith("msgstr")]
            entries.append((fields["msgid"], min(translated, key=len) if translated else "", fuzzy))
    return entries


def english_sentences() -> set[str]:
    """The catalogue's English of three words or more (between placeholders): none may show on a Chinese page."""
    found = set()
    for _msgid, msgstr, _fuzzy in po_entries():
        for part in re.split(r"%\(\w+\)[sd]|%[sd]|\{\w+\}|<[^>]+>", msgstr):
            part = part.strip(" .,:;()“”\"'—–-")
            if len(part.split()) >= 3 and not CJK.search(part):
                found.add(part)
    return found


# -- seeded company ---------------------------------------------------------------------------


TODAY = date(2026, 5, 10)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def company(estate, today):
    """The staff conftest's estate, a day's run (case, tasks, messages), a blocked and a rescheduled
    message written the way the sender writes them, and two stored import reports (new and old form)."""
    ensure_templates()
    with time_machine.travel(datetime(2026, 5, 10, 9, 0, tzinfo=SHANGHAI), tick=False):
        run_collection(as_of=TODAY)
    unit, owner, community = estate["unit"], estate["owner"], estate["community"]
    blocked = OutgoingMessage.objects.create(
        community=community, unit=unit, owner=owner, key="test-blocked", template_code="thanks_payment", channel="sms",
        scheduled_on=TODAY, status=MessageStatus.BLOCKED, blocked_rule="do_not_contact",
        blocked_reason="业主已要求不再联系：只可邮寄书面催费函或律师函 / The owner asked not to be contacted: only a "
                       "collection or lawyer letter by post",
    )
    at = datetime(2026, 5, 10, 9, 0, tzinfo=SHANGHAI)
    MessageEvent.objects.create(community=community, message=blocked, at=at, kind=EventKind.BLOCKED,
                                detail=blocked.blocked_reason)
    MessageEvent.objects.create(community=community, message=blocked, at=at, kind=EventKind.RESCHEDULED,
                                detail="不在可联系时段 → 2026-05-11 09:00 / Outside the contact hours → 2026-05-11 09:00")
    admin = factories.user("boss", groups=[roles.ADMIN], is_staff=True, is_superuser=True)
    manager = factories.user("lead", groups=[roles.MANAGER])
    for user in (admin, manager):
        StaffScope.objects.create(user=user, community=community)
    report = {"ok": False, "dry_run": True, "counts": {}, "error_count": 3, "errors": [
        RowError.of("房屋", 2, "小区", "小区“%(community)s”不在您的管辖范围内，不能导入", community="翠湖苑").as_json(),
        RowError("房屋", 1, "建筑面积", "缺少此列").as_json(),
        ["应收", 3, "金额", "金额必须大于零 / amount must be positive"],  # stored before the msgids
    ]}
    jobs = {user.pk: ImportJob.objects.create(
        user=user, kind=ImportJobKind.CHECK, status=ImportJobStatus.DONE, token=f"t{user.pk}", digest="d" * 64,
        report=report,
    ) for user in (admin, manager)}
    ServiceTicket.objects.create(community=estate["unit"].community, unit=estate["unit"], kind=TicketKind.REPAIR,
                                 summary="楼道灯不亮", opened_on=date(2026, 5, 1))
    return {"admin": admin, "manager": manager, "jobs": jobs, "blocked": blocked, **estate}


def staff_urls(company, user) -> list[str]:
    unit = company["unit"]
    case = Case.objects.filter(unit=unit).first()
    template = NoticeTemplate.objects.filter(community__isnull=True, code="collection_letter").first()
    sms = NoticeTemplate.objects.filter(community__isnull=True, code="thanks_payment").first()
    ticket = ServiceTicket.objects.get(unit=unit)
    urls = [
        reverse("staff:home"), reverse("staff:search") + "?q=1201", reverse("staff:unit", args=[unit.pk]),
        reverse("staff:import") + f"?job={company['jobs'][user.pk].pk}", reverse("staff:workbench"),
        reverse("staff:cases"), reverse("staff:compliance"), reverse("staff:desk") + "?q=1201",
        reverse("staff:evidence_needed"), reverse("staff:letters"), reverse("staff:outbox"),
        reverse("staff:outbox_message", args=[company["blocked"].pk]), reverse("staff:templates"),
        reverse("staff:template_edit", args=[template.pk]), reverse("staff:template_edit", args=[sms.pk]),
        reverse("staff:owner_requests"), reverse("staff:reversals"), reverse("staff:cashier", args=[unit.pk]),
        # the pages this issue added: approvals, collectors by building, tickets, the profile, letters of one community
        reverse("staff:approvals"), reverse("staff:collectors"),
        reverse("staff:tickets"), reverse("staff:ticket", args=[ticket.pk]), reverse("staff:my_profile"),
        reverse("staff:letters") + f"?community={unit.community_id}",
        reverse("staff:targets"), reverse("staff:targets") + "?kind=quarter",
    ]
    assert case is not None and Task.objects.filter(case=case).exists()  # the run gave the pages work to show
    return urls


def pages(client, company, language):
    """(url, html) of every staff page, as the admin and as the manager, in `language`."""
    for role in ("admin", "manager"):
        user = company[role]
        client.force_login(user)
        client.cookies.load({settings.LANGUAGE_COOKIE_NAME: language})
        for url in staff_urls(company, user):
            response = client.get(url)
            # the admin sees every page; the manager the pages of the role (the cashier's are finance's)
            assert response.status_code == 200 or (role == "manager" and response.status_code == 403), (role, url)
            if response.status_code != 200:
                continue
            yield f"{role} {url}", response.content.decode()
        if role == "admin":  # a refused template save shows the refusal in the page's language only
            template = NoticeTemplate.objects.get(community__isnull=True, code="thanks_payment", channel="sms")
            response = client.post(reverse("staff:template_edit", args=[template.pk]), {
                "name": template.name, "body": template.body + "{nonsense}", "active": "on",
            })
            assert 'data-testid="error"' in response.content.decode()
            yield f"{role} refused template save", response.content.decode()


# -- tests ------------------------------------------------------------------------------------


def test_it_leaves_no_chinese_on_an_english_staff_page_but_the_data(client, company):
    values = data_values()
    left = {}
    for where, html in pages(client, company, "en"):
        assert '<html lang="en">' in html, where
        for text in visible_texts(html, "en"):
            rest = without_data(text, values)
            if CJK.search(rest):
                left.setdefault(text[:80], where)
    assert left == {}, "\n".join(f"{where}: {text}" for text, where in left.items())


def test_it_leaves_no_english_sentence_or_bilingual_pair_on_a_chinese_staff_page(client, company):
    values = data_values()
    sentences = english_sentences()
    assert len(sentences) > 300  # the catalogue is read: a broken reader would make this test pass by itself
    left = {}
    for where, html in pages(client, company, "zh-hans"):
        assert '<html lang="zh-hans">' in html, where
        texts = [without_data(text, values) for text in visible_texts(html, "zh-hans")]
        page = "\n".join(texts)
        for text in texts:
            if PAIR.search(text):
                left.setdefault(text[:80], where)
        for sentence in sentences:
            if sentence in page:
                left.setdefault(sentence, where)
    assert left == {}, "\n".join(f"{where}: {text}" for text, where in left.items())


def test_it_shows_codes_as_their_labels(client, company):
    client.force_login(company["admin"])
    outbox = client.get(reverse("staff:outbox")).content.decode()
    templates = client.get(reverse("staff:templates")).content.decode()
    message = client.get(reverse("staff:outbox_message", args=[company["blocked"].pk])).content.decode()
    for html in (outbox, templates, message):
        assert "缴费致谢" in html
        assert not re.search(r">\s*thanks_payment\s*<", html)
    assert "业主要求不再联系" in message and ">do_not_contact<" not in message
    assert not re.search(r">\s*collection_letter\s*<", templates) and "催费函" in templates


def test_it_reads_a_stored_import_report_in_the_viewers_language(client, company):
    # given: one report, stored once, with an error of each form (msgid and params; bilingual text of old)
    client.force_login(company["admin"])
    url = reverse("staff:import") + f"?job={company['jobs'][company['admin'].pk].pk}"
    # when / then: each reader reads it in their own language
    chinese = client.get(url).content.decode()
    assert "小区“翠湖苑”不在您的管辖范围内，不能导入" in chinese and "缺少此列" in chinese and "金额必须大于零" in chinese
    assert "column missing" not in chinese and "amount must be positive" not in chinese
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    english = client.get(url).content.decode()
    assert "the community “翠湖苑” is outside your scope" in english
    assert "column missing" in english and "amount must be positive" in english
    assert "缺少此列" not in english and "金额必须大于零" not in english


@pytest.mark.parametrize(("text", "zh", "en"), [
    ("缺少此列 / column missing", "缺少此列", "column missing"),
    ("业主已要求不再联系 / The owner asked", "业主已要求不再联系", "The owner asked"),
    ("不在可联系时段 → 2026-05-11 09:00 / Outside hours → 2026-05-11 09:00", "不在可联系时段 → 2026-05-11 09:00",
     "Outside hours → 2026-05-11 09:00"),
    ("现金 / 银行转账 / 微信", "现金 / 银行转账 / 微信", "现金 / 银行转账 / 微信"),  # Chinese on both sides: one value
    ("just English / still English", "just English / still English", "just English / still English"),
])
def test_it_shows_one_half_of_a_stored_bilingual_text(text, zh, en):
    with translation.override("zh-hans"):
        assert one_language(text) == zh
    with translation.override("en"):
        assert one_language(text) == en


def test_it_has_a_finished_english_translation_for_every_msgid():
    entries = po_entries()
    assert len(entries) > 1000
    untranslated = [msgid for msgid, msgstr, _fuzzy in entries if not msgstr.strip()]
    fuzzy = [msgid for msgid, _msgstr, is_fuzzy in entries if is_fuzzy]
    assert untranslated == [] and fuzzy == []
    # the English side is English: a msgstr still in Chinese is a translation not done (a quoted
    # name, an example of what to type and a term in brackets may stay Chinese)
    quoted = re.compile(r"“[^”]*”|\{[^}]*\}|\([^)]*\)|e\.g\. .*")
    chinese = [msgid for msgid, msgstr, _fuzzy in entries if CJK.search(quoted.sub("", msgstr))]
    assert chinese == []
