"""End to end: the daily run queues an SMS, the outbox sends it through Aliyun's API (a local fake of
it), a worker dies once on the way, the provider's delivery report comes back by webhook."""

import json
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from arrears.collection.models import MessageStatus, OutgoingMessage
from arrears.collection.run import run_collection
from arrears.estate.models import Contact
from arrears.ledger import services
from arrears.notices import outbox
from arrears.notices.models import NoticeTemplate
from tests import factories

from .conftest import at
from .fake_providers import FakeAliyun
from .recording import WorkerKilled


@pytest.fixture
def aliyun(settings):
    fake = FakeAliyun().start()
    fake.templates = {"SMS_OVERDUE_1": ["owner_name", "community", "room", "amount", "oldest_due", "payment_link",
                                        "company_phone"]}
    settings.NOTICES_CHANNELS = {"sms": {
        "BACKEND": "arrears.notices.channels.aliyun.AliyunSmsBackend", "access_key_id": fake.access_key_id,
        "access_key_secret": fake.access_key_secret, "endpoint": fake.endpoint, "protocol": "http",
        "read_timeout": 2,
    }}
    settings.NOTICES_SMS_SIGN_NAME = "阳光物业"
    settings.NOTICES_RECEIPT_TOKEN = "s3cret-token"
    yield fake
    fake.stop()


@pytest.fixture
def overdue(db):
    community = factories.community()
    factories.tariff(community)
    owner = factories.owner(factories.unit(community, room="101"), "张三")
    Contact.objects.create(community=community, owner=owner, kind="mobile", value="13912345678", relation="self")
    services.bill(through=date(2026, 1, 1))
    NoticeTemplate.objects.filter(code="overdue", channel="sms").update(provider_codes={"aliyun": "SMS_OVERDUE_1"})
    with time_machine.travel(at("2026-01-06", "06:00"), tick=False):
        run_collection(as_of=date(2026, 1, 6))  # due 2026-01-05: the day-1 reminder
        run_collection(as_of=date(2026, 1, 6))  # queuing twice yields one message
    return OutgoingMessage.objects.get(template_code="overdue")


def test_from_the_daily_run_to_the_owner_and_back(client, aliyun, overdue, monkeypatch):
    clock = time_machine.travel(at("2026-01-06", "09:00"), tick=False)
    clock.start()
    assert overdue.not_before == at("2026-01-06", "09:00")  # queued for the SMS window
    assert outbox.dispatch(now=at("2026-01-06", "08:00")) == {}

    # The worker dies after Aliyun accepted the message and before it wrote down the BizId.
    from arrears.notices.channels.aliyun import AliyunSmsBackend

    real_send = AliyunSmsBackend.send

    def send_then_die(self, message):
        real_send(self, message)
        raise WorkerKilled

    monkeypatch.setattr(AliyunSmsBackend, "send", send_then_die)
    with pytest.raises(WorkerKilled):
        outbox.dispatch(now=at("2026-01-06", "09:00"))
    monkeypatch.setattr(AliyunSmsBackend, "send", real_send)
    clock.stop()
    clock = time_machine.travel(at("2026-01-06", "09:06"), tick=False)
    clock.start()
    # After the lease, the outbox asks Aliyun (QuerySendDetails by OutId) instead of sending again.
    assert outbox.dispatch(now=at("2026-01-06", "09:06")) == {"recovered": 1}
    assert len(aliyun.accepted) == 1
    sent = aliyun.accepted[0]
    assert (sent.phone, sent.key, sent.template, sent.sign_name) == ("13912345678", overdue.key, "SMS_OVERDUE_1", "阳光物业")
    assert sent.params["owner_name"] == "张三业主" and sent.params["amount"] == "200.10"  # ¥200 + one day at 0.05%
    message = OutgoingMessage.objects.get(pk=overdue.pk)
    assert message.status == MessageStatus.SENT and "200.10元" in message.body

    report = [{"phone_number": "13912345678", "send_time": "2026-01-06 09:00:01", "report_time": "2026-01-06 09:00:07",
               "success": True, "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "1",
               "biz_id": sent.message_id, "out_id": overdue.key}]
    url = reverse("staff:receipts", args=["aliyun", "s3cret-token"])
    for _ in range(2):  # Aliyun pushes again when unsure: the second push changes nothing
        response = client.post(url, data=json.dumps(report), content_type="application/json")
        assert response.status_code == 200 and response.json()["code"] == 0
    message.refresh_from_db()
    assert (message.status, message.delivered_at) == (MessageStatus.DELIVERED, at("2026-01-06", "09:00:07"))
    assert client.post(reverse("staff:receipts", args=["aliyun", "wrong"]), data="[]",
                       content_type="application/json").status_code == 404
    clock.stop()
