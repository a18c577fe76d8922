"""A letter tells the truth about how to pay: it offers online payment only when a provider is
configured and a bank transfer only when it lists the account (the owner's lawyer reads both)."""

from io import BytesIO

import pytest
from pypdf import PdfReader

from arrears.notices import letters, outbox

from .conftest import at
from .test_letters import ISSUE, street  # noqa: F401  (the fixture)

NO_BANK = {"bank": "", "account": "", "name": ""}
BANK = {"bank": "招商银行深圳分行", "account": "7559 0000 0000 001", "name": "示范物业有限公司"}


def _issue(street):  # noqa: F811
    batch = letters.issue_batch(kind="collection", cases=street["cases"][:1], issued_on=ISSUE, staff=street["collector"])
    letter = batch.letters.get()
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(letter.pdf.read())).pages)
    return letter, text.replace("\n", "").replace(" ", "")


def test_it_promises_no_online_payment_and_no_account_that_the_letter_does_not_have(street, settings):  # noqa: F811
    # given: no online provider, no bank account configured
    settings.PORTAL_PAYMENT_PROVIDERS = {}
    settings.ARREARS_BANK_ACCOUNT = NO_BANK
    # when
    letter, text = _issue(street)
    # then: the frozen content and the PDF offer the service centre and the statement link, nothing untrue
    methods = letter.content["payment_methods"]
    assert methods and not any("在线" in line or "本函所列账户" in line for line in methods), methods
    assert "在线缴费" not in text and "在线缴纳" not in text and "本函所列账户" not in text
    assert "服务中心" in text
    assert letter.content["payment_link"] and "查看账单" in text


def test_it_offers_online_payment_and_the_account_when_they_are_configured(street, settings):  # noqa: F811
    # given
    settings.PORTAL_PAYMENT_PROVIDERS = {"wechat": {"BACKEND": "x"}}
    settings.ARREARS_BANK_ACCOUNT = BANK
    # when
    letter, text = _issue(street)
    # then
    methods = letter.content["payment_methods"]
    assert any("在线缴纳" in line for line in methods) and any("本函所列账户" in line for line in methods)
    assert "在线缴费" in text and "招商银行深圳分行" in text


def _email(case):  # noqa: F811
    from arrears.collection.models import OutgoingMessage
    from arrears.estate.models import Contact

    Contact.objects.create(community=case.community, owner=case.owner, kind="email", value="owner@example.cn", relation="self")
    return OutgoingMessage.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner,
                                          key=f"case:{case.pk}:step:overdue_email", channel="email",
                                          template_code="overdue", scheduled_on=case.as_of)


@pytest.mark.parametrize(("providers", "online"), [({}, False), ({"wechat": {"BACKEND": "x"}}, True)])
def test_it_says_online_payment_in_the_default_email_only_when_there_is_one(provider, case, settings, providers, online):
    # given
    settings.PORTAL_PAYMENT_PROVIDERS = providers
    message = _email(case)
    # when
    assert outbox.dispatch(now=at("2026-05-12")) == {"sent": 1}
    # then
    message.refresh_from_db()
    assert ("在线缴费" in message.body) is online, message.body
    assert "查看费用明细" in message.body
