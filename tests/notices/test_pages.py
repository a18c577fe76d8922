"""The outbox and template pages and the delivery-receipt callback."""

import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arrears.collection.models import MessageStatus, OutgoingMessage
from arrears.estate.models import Contact
from arrears.notices import texts
from arrears.notices.models import EventKind, MessageEvent, NoticeTemplate
from tests import factories
from tests.collection.conftest import make_case

from .conftest import at

TUESDAY = "2026-05-12"


def _set(message, **fields):
    OutgoingMessage.objects.filter(pk=message.pk).update(**fields)
    message.refresh_from_db()
    return message


def _far_message(estate):
    unit = estate["far_unit"]
    owner = unit.ownerships.get().owner
    case = make_case(unit, owner)
    return OutgoingMessage.objects.create(community=unit.community, case=case, unit=unit, owner=owner, key="far:1",
                                          channel="sms", template_code="overdue", scheduled_on=case.as_of)


def _default(code="overdue", channel="sms"):
    return NoticeTemplate.objects.get(community__isnull=True, code=code, channel=channel)


# -- outbox ---------------------------------------------------------------------------------------


def test_it_lists_the_outbox_with_counts_by_status(client, insider, message, case):
    # given
    _set(message, status=MessageStatus.FAILED, attempts=4, last_error="isv.MOBILE_NUMBER_ILLEGAL bad number")
    OutgoingMessage.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner, key="k2",
                                   channel="sms", template_code="pre_due", scheduled_on=case.as_of,
                                   status=MessageStatus.SENT, provider="aliyun", provider_message_id="BIZ-77")
    client.force_login(insider)
    # when
    html = client.get(reverse("staff:outbox")).content.decode()
    # then
    assert '<a class="stat warn" href="?status=failed" data-testid="count-failed">' in html
    assert '<span class="label">发送失败</span><span class="value">1</span>' in html
    assert '<span class="label">已发送</span><span class="value">1</span>' in html
    assert "isv.MOBILE_NUMBER_ILLEGAL bad number" in html and "阿里云短信 BIZ-77" in html  # the provider by its name, not its code
    assert f'href="/units/{case.unit_id}/"' in html and "王小明" in html
    assert html.count('data-testid="resend"') == 1  # the failed one only
    assert html.count('data-testid="message"') == 2


def test_it_filters_by_status_and_text(client, insider, message, case):
    _set(message, status=MessageStatus.FAILED)
    OutgoingMessage.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner, key="k2",
                                   channel="sms", template_code="pre_due", scheduled_on=case.as_of)
    client.force_login(insider)
    html = client.get(reverse("staff:outbox"), {"status": "failed"}).content.decode()
    assert html.count('data-testid="message"') == 1 and ">逾期提醒<" in html  # the template by its label, not its code
    # the counts still show every status under the other filters
    assert '<span class="label">待发送</span><span class="value">1</span>' in html
    html = client.get(reverse("staff:outbox"), {"q": "pre_due"}).content.decode()
    assert html.count('data-testid="message"') == 1 and ">到期前提醒<" in html
    html = client.get(reverse("staff:outbox"), {"q": "到期前"}).content.decode()  # by the label the page shows
    assert html.count('data-testid="message"') == 1 and ">到期前提醒<" in html
    html = client.get(reverse("staff:outbox"), {"q": "3栋1201"}).content.decode()
    assert html.count('data-testid="message"') == 2


def test_it_shows_no_message_of_another_community(client, stranger, insider, message, estate):
    # given
    far = _set(_far_message(estate), status=MessageStatus.FAILED)
    _set(message, status=MessageStatus.FAILED)
    client.force_login(stranger)
    # when
    html = client.get(reverse("staff:outbox")).content.decode()
    # then
    assert html.count('data-testid="message"') == 1 and "钱远方" in html and "王小明" not in html
    assert client.get(reverse("staff:outbox_message", args=[message.pk])).status_code == 404
    assert client.post(reverse("staff:outbox_resend", args=[message.pk])).status_code == 404
    assert OutgoingMessage.objects.count() == 2
    client.force_login(insider)
    assert client.get(reverse("staff:outbox_message", args=[far.pk])).status_code == 404


def test_the_front_desk_may_not_see_the_outbox_or_templates(client, front_desk, message):
    _set(message, status=MessageStatus.FAILED)
    client.force_login(front_desk)
    assert client.get(reverse("staff:outbox")).status_code == 403
    assert client.get(reverse("staff:outbox_message", args=[message.pk])).status_code == 403
    assert client.post(reverse("staff:outbox_resend", args=[message.pk])).status_code == 403
    assert client.post(reverse("staff:outbox_dispatch")).status_code == 403
    assert client.get(reverse("staff:templates")).status_code == 403
    assert client.get(reverse("staff:template_edit", args=[_default().pk])).status_code == 403
    assert OutgoingMessage.objects.count() == 1
    assert "消息发送" not in client.get(reverse("staff:home")).content.decode()


def test_the_list_takes_as_many_queries_for_many_rows_as_for_one(client, insider, message, case, estate):
    client.force_login(insider)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("staff:outbox"))
    for i in range(5):
        unit = factories.unit(estate["community"], building="3栋", entrance="2", room=f"{i + 1:02d}01")
        owner = factories.owner(unit, f"业主{i}")
        OutgoingMessage.objects.create(community=unit.community, unit=unit, owner=owner, key=f"more:{i}", channel="sms",
                                       template_code="overdue", scheduled_on=case.as_of)
    with CaptureQueriesContext(connection) as six:
        html = client.get(reverse("staff:outbox")).content.decode()
    assert html.count('data-testid="message"') == 6
    assert len(six) == len(one)


def test_the_detail_shows_the_frozen_text_masked_recipient_and_events_in_order(client, insider, provider, message):
    # given: sent on Tuesday morning
    from arrears.notices import outbox

    assert outbox.dispatch(now=at(TUESDAY)) == {"sent": 1}
    message.refresh_from_db()
    MessageEvent.objects.create(community=message.community, message=message, at=at(TUESDAY, "10:30"),
                                kind=EventKind.DELIVERED, detail="DELIVRD")
    client.force_login(insider)
    # when
    html = client.get(reverse("staff:outbox_message", args=[message.pk])).content.decode()
    # then
    assert f'<pre class="frozen" data-testid="body">{message.body}</pre>' in html
    assert message.body_sha256 in html
    assert '<dd class="mono" data-testid="recipient">*******8888</dd>' in html and "13912348888" not in html
    assert html.index("生成内容") < html.index("服务商已受理") < html.index("已送达</strong>")
    assert "recording" in html and "biz-1" in html


def test_resend_queues_a_new_message_and_keeps_the_old_one(client, insider, message):
    # given
    _set(message, status=MessageStatus.FAILED, last_error="bad number")
    client.force_login(insider)
    back = reverse("staff:outbox") + "?status=failed&q=overdue"
    # when
    response = client.post(reverse("staff:outbox_resend", args=[message.pk]), {"next": back})
    # then
    assert response.status_code == 302 and response["Location"] == back
    message.refresh_from_db()
    copy = OutgoingMessage.objects.exclude(pk=message.pk).get()
    assert (message.status, copy.status, copy.key) == (MessageStatus.FAILED, MessageStatus.QUEUED, f"{message.key}:resend:1")
    assert MessageEvent.objects.get(message=copy).actor == insider
    html = client.get(back).content.decode()
    assert f"已重新排队发送（新消息 #{copy.pk}，原消息 #{message.pk} 保留为记录）" in html


def test_a_sent_message_cannot_be_resent(client, insider, message):
    _set(message, status=MessageStatus.SENT)
    client.force_login(insider)
    response = client.post(reverse("staff:outbox_resend", args=[message.pk]), {"next": "https://evil.example/"}, follow=True)
    assert response.redirect_chain[0][0] == reverse("staff:outbox")
    assert "只有发送失败、未送达或被拦截的消息可以重发（当前：已发送）" in response.content.decode()
    assert OutgoingMessage.objects.count() == 1


def test_the_dispatch_button_sends_what_is_due_and_says_how_it_went(client, insider, provider, message):
    client.force_login(insider)
    with time_machine.travel(at(TUESDAY), tick=False):
        response = client.post(reverse("staff:outbox_dispatch"), follow=True)
    assert "已处理 1 条到期消息：已发送 1。" in response.content.decode()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and provider.calls == 1
    with time_machine.travel(at(TUESDAY, "10:05"), tick=False):
        response = client.post(reverse("staff:outbox_dispatch"), follow=True)
    assert "没有到期待发的消息。" in response.content.decode()
    assert provider.calls == 1


def test_it_dispatches_only_the_messages_of_the_users_own_community(client, insider, provider, message, estate):
    # given: a message due in 阳光花园 (the insider's) and one in 翠湖苑, whose owner has a mobile too
    far = _far_message(estate)
    Contact.objects.create(community=far.community, owner=far.owner, kind="mobile", value="13600002222",
                           relation="self")
    client.force_login(insider)
    # when: the insider presses "send what is due"
    with time_machine.travel(at(TUESDAY), tick=False):
        listed = client.get(reverse("staff:outbox")).content.decode()
        response = client.post(reverse("staff:outbox_dispatch"), follow=True)
    # then: only the own community's message went; the other one waits for its own staff or the scheduler
    assert "已处理 1 条到期消息：已发送 1。" in response.content.decode()
    assert f"/outbox/{far.pk}/" not in listed and f"/outbox/{message.pk}/" in listed
    message.refresh_from_db()
    far.refresh_from_db()
    assert (message.status, far.status) == (MessageStatus.SENT, MessageStatus.QUEUED)
    assert list(provider.accepted) == [message.key]
    assert not MessageEvent.objects.filter(message=far).exists()
    # and the scheduled dispatch, which has no scope, still sends it
    from arrears.notices.tasks import dispatch_outbox

    with time_machine.travel(at(TUESDAY, "10:01"), tick=False):
        assert dispatch_outbox() == {"sent": 1}
    far.refresh_from_db()
    assert far.status == MessageStatus.SENT


# -- templates ------------------------------------------------------------------------------------


def test_it_lists_defaults_and_the_users_own_overrides_by_code(client, manager, estate):
    far = estate["far_unit"].community
    other = texts.save_template(code="overdue", channel="sms", community=far, name="翠湖苑逾期提醒", body="{owner_name}您好")
    texts.save_template(code="overdue", channel="sms", community=estate["community"], name="阳光花园逾期提醒",
                        body="{owner_name}您好", provider_codes={"aliyun": "SMS_123"})
    client.force_login(manager)
    html = client.get(reverse("staff:templates")).content.decode()
    assert 'data-testid="group-overdue"' in html and 'data-testid="group-lawyer_letter"' in html
    assert "阳光花园逾期提醒" in html and "aliyun: SMS_123" in html
    assert "翠湖苑逾期提醒" not in html
    group = html[html.index('data-testid="group-overdue"'):html.index('data-testid="group-overdue_second"')]
    assert group.index("逾期提醒（邮件）") < group.index("逾期提醒</a>") < group.index("阳光花园逾期提醒")
    assert client.get(reverse("staff:template_edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("staff:template_edit", args=[other.pk]), {"name": "x", "body": "y"}).status_code == 404


def test_a_manager_of_one_community_copies_a_default_and_edits_the_copy(client, manager, estate):
    # given
    default = _default()
    client.force_login(manager)
    assert 'data-testid="save"' not in client.get(reverse("staff:template_edit", args=[default.pk])).content.decode()
    assert client.post(reverse("staff:template_edit", args=[default.pk]), {"name": "x", "body": "y"}).status_code == 403
    # when
    response = client.post(reverse("staff:template_override", args=[default.pk]), {"community": estate["community"].pk})
    # then
    copy = NoticeTemplate.objects.get(community=estate["community"], code="overdue", channel="sms")
    assert response["Location"] == reverse("staff:template_edit", args=[copy.pk])
    assert (copy.body, copy.updated_by) == (default.body, manager)
    far = client.post(reverse("staff:template_override", args=[default.pk]), {"community": estate["far_unit"].community_id})
    assert far.status_code == 302 and NoticeTemplate.objects.filter(community__isnull=False).count() == 1


def _form(template, **changes):
    data = {"name": template.name, "subject": template.subject, "body": template.body, "active": "on",
            "aliyun": "", "tencent": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_an_unknown_placeholder_is_refused_and_nothing_is_saved(client, superuser):
    # given
    template = _default()
    before = (template.body, template.updated_at)
    client.force_login(superuser)
    # when
    response = client.post(reverse("staff:template_edit", args=[template.pk]),
                           _form(template, body="{ownr_name}您好，请缴物业费。"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "模板含未知占位符：{ownr_name}。" in html and "unknown placeholders" not in html  # one language
    template.refresh_from_db()
    assert (template.body, template.updated_at) == before


def test_a_neutral_template_may_not_name_the_amount(client, superuser):
    template = _default("neutral_contact")
    client.force_login(superuser)
    response = client.post(reverse("staff:template_edit", args=[template.pk]),
                           _form(template, neutral="on", body="您好，{owner_name}有{amount}元待处理，请致电{company_phone}。"))
    assert "中性模板不得使用金额、日期或链接类占位符：{amount}" in response.content.decode()
    template.refresh_from_db()
    assert "{amount}" not in template.body and template.neutral


def test_a_saved_template_shows_its_new_preview(client, superuser, estate):
    template = _default()
    client.force_login(superuser)
    response = client.post(reverse("staff:template_edit", args=[template.pk]),
                           _form(template, body="{owner_name}您好，{room}物业费{amount}元待缴。", aliyun="SMS_9"), follow=True)
    html = response.content.decode()
    assert "模板已保存。" in html
    assert '<pre class="frozen" data-testid="preview" data-preview-body>【示范物业】王先生您好，3栋1单元1201物业费1236.40元待缴。</pre>' in html
    template.refresh_from_db()
    assert (template.body, template.provider_codes, template.updated_by) == (
        "{owner_name}您好，{room}物业费{amount}元待缴。", {"aliyun": "SMS_9"}, superuser)


def test_the_sms_page_counts_characters_and_parts(client, manager, settings):
    # given: the default overdue SMS, 133 characters with the example values and 【示范物业】
    settings.NOTICES_SMS_SIGN_NAME = ""
    template = _default()
    client.force_login(manager)
    # when
    html = client.get(reverse("staff:template_edit", args=[template.pk])).content.decode()
    # then
    length, parts = texts.sms_length(texts.render(template.body, texts.EXAMPLE_CONTEXT), "示范物业")
    assert (length, parts) == (133, 2)
    assert "含签名共 <strong data-sms-length>133</strong> 字，按 <strong data-sms-parts>2</strong> 条计费" in html
    assert 'id="example-context"' in html and 'data-sign="示范物业"' in html
    assert 'data-name="owner_name"' in html and "业主称呼" in html


# -- delivery receipts ----------------------------------------------------------------------------


@pytest.fixture
def receipt_backend(settings):
    settings.NOTICES_RECEIPT_TOKEN = "s3cret-token"
    settings.NOTICES_CHANNELS = {"sms": {"BACKEND": "tests.notices.receipt_backend.ReceiptBackend"},
                                 "email": {"BACKEND": "tests.notices.receipt_backend.AcknowledgingBackend"}}


def _receipt_url(provider="testrcpt", token="s3cret-token"):
    return reverse("staff:receipts", args=[provider, token])


def _post(client, url, rows):
    return client.post(url, data=json.dumps(rows), content_type="application/json")


def test_receipts_need_the_token_and_a_known_provider(client, receipt_backend, message, settings):
    assert _post(client, _receipt_url(token="wrong"), []).status_code == 404
    assert _post(client, _receipt_url(provider="nobody"), []).status_code == 404
    assert client.get(_receipt_url()).status_code == 405
    settings.NOTICES_RECEIPT_TOKEN = ""
    assert _post(client, reverse("staff:receipts", args=["testrcpt", "x"]), []).status_code == 404


def test_a_malformed_receipt_is_refused(client, receipt_backend, message):
    response = client.post(_receipt_url(), data=b"not json", content_type="application/json")
    assert response.status_code == 400
    assert _post(client, _receipt_url(), {"id": "m-1"}).status_code == 400


def test_a_receipt_marks_the_message_delivered_once(client, receipt_backend, message):
    # given
    _set(message, status=MessageStatus.SENT, provider="testrcpt", provider_message_id="m-1")
    # when
    response = _post(client, _receipt_url(), [{"id": "m-1", "delivered": True, "code": "DELIVRD"}])
    # then
    assert (response.status_code, response.content) == (200, b"OK")  # the base backend's plain acknowledgement
    message.refresh_from_db()
    assert (message.status, message.receipt_code) == (MessageStatus.DELIVERED, "DELIVRD")
    delivered_at = message.delivered_at
    # when the provider repeats itself, with a late failure report too
    _post(client, _receipt_url(), [{"id": "m-1", "delivered": True}, {"id": "m-1", "delivered": False, "code": "X"}])
    # then nothing changes
    message.refresh_from_db()
    assert (message.status, message.delivered_at, message.receipt_code) == (MessageStatus.DELIVERED, delivered_at, "DELIVRD")
    assert MessageEvent.objects.filter(message=message, kind=EventKind.DELIVERED).count() == 1


def test_a_provider_gets_its_own_acknowledgement(client, receipt_backend, message):
    response = _post(client, _receipt_url(provider="ackrcpt"), [])
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.content == b'{"code": 0, "msg": "\\u6210\\u529f"}'


def test_the_pages_speak_english_on_request(client, insider, message, manager):
    _set(message, status=MessageStatus.UNDELIVERED)
    client.cookies.load({"django_language": "en"})
    client.force_login(insider)
    html = client.get(reverse("staff:outbox")).content.decode()
    for text in ["Outbox", "Send due messages now", "Undelivered", "Resend", "Error or block reason"]:
        assert text in html, text
    html = client.get(reverse("staff:outbox_message", args=[message.pk])).content.decode()
    assert "Not rendered yet" in html and "Resent by hand" not in html
    client.force_login(manager)
    html = client.get(reverse("staff:template_edit", args=[_default().pk])).content.decode()
    assert "Copy for my community" in html and "the owner as addressed" in html and "billed as" in html


def test_it_queues_a_failed_message_once_when_resend_is_pressed_twice(client, insider, message):
    # given
    _set(message, status=MessageStatus.FAILED, last_error="bad number")
    client.force_login(insider)
    url = reverse("staff:outbox_resend", args=[message.pk])
    # when: a double click
    first, second = client.post(url), client.post(url, follow=True)
    # then: one copy for the owner, and the second press says why nothing more was queued
    assert first.status_code == 302
    copy = OutgoingMessage.objects.exclude(pk=message.pk).get()
    assert f"这条消息已重新排队（新消息 #{copy.pk}，待发送），请勿重复重发" in second.content.decode()

