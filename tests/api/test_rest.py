"""The REST API: tokens, scope as the pages, roles, problems in both languages, pagination, writes."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arrears.api import tokens
from arrears.api.models import ApiToken, IdempotentRequest
from arrears.collection.models import Case, CaseStatus, ContactAttempt, Promise
from arrears.core.models import AuditEvent
from arrears.estate.models import ServiceTicket
from arrears.ledger.models import Payment
from tests.api import rest
from tests.api.rest import get, post

pytestmark = pytest.mark.django_db


def payment_body(world, **changes):
    body = {"unit_id": world.unit_a.pk, "owner_id": world.owner_a.pk, "amount": "400.00", "method": "bank_transfer",
            "paid_on": "2026-05-12", "reference": "TX-20260512-001"}
    body.update(changes)
    return body


# ---- the document and its page -------------------------------------------------------------


def test_the_openapi_document_and_the_docs_page_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    document = schema.json()

    def no_duplicates(pairs):
        keys = [key for key, _value in pairs]
        assert len(keys) == len(set(keys)), keys  # Swagger UI's YAML parser refuses a document with duplicate keys
        return dict(pairs)

    json.loads(schema.content, object_pairs_hook=no_duplicates)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/payments" in document["paths"]
    assert document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/" in html and "cdn" not in html.lower()


# ---- tokens ----------------------------------------------------------------------------------


def test_no_token_bad_token_expired_and_revoked_tokens_are_401_problems(client, world):
    answer = client.get("/api/v1/units")
    assert answer.status_code == 401
    assert answer["Content-Type"] == "application/problem+json"
    assert answer["WWW-Authenticate"].startswith("Bearer")
    body = answer.json()
    assert body["status"] == 401 and body["code"] == "unauthenticated" and body["instance"] == "/api/v1/units"
    assert "令牌" in body["detail"]
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION="Bearer arr_not-a-token").status_code == 401
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION=f"Token {world.tokens['collector']}").status_code == 401

    token = ApiToken.objects.get(user=world.users["collector"])
    tokens.revoke(token=token, by=world.users["collector"])
    assert get(client, world, "collector", "/units").status_code == 401

    with time_machine.travel(rest.NOW + timedelta(days=91), tick=False):
        assert get(client, world, "manager", "/units").status_code == 401  # 90 days by default

    world.users["finance"].is_active = False
    world.users["finance"].save()
    assert get(client, world, "finance", "/units").status_code == 401


def test_only_the_digest_is_stored(world):
    raw = world.tokens["collector"]
    token = ApiToken.objects.get(user=world.users["collector"])
    assert raw not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert token.digest == tokens.digest(raw) and raw.startswith(token.prefix)


def test_the_cli_prints_a_token_that_works(client, world, capsys):
    call_command("api-token", "collector", "--days", "7", "--name", "呼叫中心")
    raw = capsys.readouterr().out.strip()
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    token = ApiToken.objects.get(digest=tokens.digest(raw))
    assert token.name == "呼叫中心" and token.expires_at == rest.NOW + timedelta(days=7)
    from django.core.management.base import CommandError
    with pytest.raises(CommandError):
        call_command("api-token", "nobody")
    with pytest.raises(CommandError):
        call_command("api-token", "collector", "--days", "0")
    with pytest.raises(CommandError):
        call_command("api-token", "collector", "--days", "400")


# ---- scope: a token of community A never reads or writes community B ------------------------------


def test_lists_hold_only_the_tokens_communities(client, world):
    units = get(client, world, "collector", "/units").json()["items"]
    assert {u["community_id"] for u in units} == {world.a.pk}
    assert get(client, world, "collector_b", "/units").json()["items"][0]["id"] == world.unit_b.pk
    for path in ("/communities", "/owners", "/charges", "/cases", "/tasks"):
        items = get(client, world, "collector", path).json()["items"]
        assert items, path
        ids = {item.get("community_id", item.get("id")) for item in items}
        assert ids == {world.a.pk}, path
    root = {u["community_id"] for u in get(client, world, "root", "/units").json()["items"]}
    assert root == {world.a.pk, world.b.pk}


def test_another_communitys_ids_are_404_for_reads_and_writes(client, world):
    case_b = Case.objects.get(unit=world.unit_b)
    for path in (f"/units/{world.unit_b.pk}", f"/units/{world.unit_b.pk}/statement", f"/cases/{case_b.pk}"):
        answer = get(client, world, "collector", path)
        assert answer.status_code == 404, path
        assert answer["Content-Type"] == "application/problem+json"
    # filters naming B give nothing rather than B's rows
    assert get(client, world, "collector", f"/charges?unit_id={world.unit_b.pk}").json()["items"] == []
    assert get(client, world, "collector", f"/owners?community_id={world.b.pk}").json()["items"] == []
    writes = [
        ("/payments", payment_body(world, unit_id=world.unit_b.pk, owner_id=world.owner_b.pk), "finance"),
        (f"/cases/{case_b.pk}/attempts", {"channel": "call", "outcome": "no_answer"}, "collector"),
        (f"/cases/{case_b.pk}/promises", {"amount": "100.00", "due_on": "2026-05-20"}, "collector"),
        (f"/units/{world.unit_b.pk}/tickets", {"kind": "repair", "summary": "漏水"}, "collector"),
    ]
    for path, body, who in writes:
        answer = post(client, world, who, path, body, HTTP_IDEMPOTENCY_KEY="k-" + path)
        assert answer.status_code == 404, path
    assert not Payment.objects.filter(unit=world.unit_b).exists()
    assert not ContactAttempt.objects.filter(unit=world.unit_b).exists()
    assert not Promise.objects.exists()
    assert not ServiceTicket.objects.exists()


def test_a_building_scoped_token_sees_its_building_only(client, world):
    units = get(client, world, "building5", "/units").json()["items"]
    assert [u["id"] for u in units] == [world.paid_unit.pk]
    assert get(client, world, "building5", f"/units/{world.unit_a.pk}").status_code == 404
    assert get(client, world, "building5", "/cases").json()["items"] == []


# ---- roles: as on the pages ---------------------------------------------------------------------


def test_the_front_desk_sees_no_amounts_and_masked_owners(client, world):
    for path in ("/charges", "/payments", "/cases", f"/units/{world.unit_a.pk}/statement", "/kpis"):
        answer = get(client, world, "desk", path)
        assert answer.status_code == 403, path
        assert answer.json()["code"] == "forbidden"
    owners = {o["id"]: o for o in get(client, world, "desk", "/owners").json()["items"]}
    assert owners[world.owner_a.pk]["name"] == "王**"
    assert owners[world.owner_a.pk]["contacts"] == []
    assert owners[world.owner_a.pk]["id_number"] == "310***********3456"


def test_collectors_see_names_and_full_numbers_and_never_the_id_number(client, world):
    owners = {o["id"]: o for o in get(client, world, "collector", "/owners").json()["items"]}
    owner = owners[world.owner_a.pk]
    assert owner["name"] == "王小明" and owner["unit_ids"] == [world.unit_a.pk]
    assert {c["value"] for c in owner["contacts"]} == {"13912348888", "13700001111"}
    assert {c["value"]: c["may_hear_of_debt"] for c in owner["contacts"]} == {"13912348888": True, "13700001111": False}
    assert owner["id_number"] == "310***********3456"


def test_writes_need_the_roles_permission(client, world):
    answer = post(client, world, "collector", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="k1")
    assert answer.status_code == 403  # collectors take no money
    answer = post(client, world, "desk", f"/units/{world.unit_a.pk}/tickets", {"kind": "repair", "summary": "漏水"})
    assert answer.status_code == 403
    assert not Payment.objects.filter(unit=world.unit_a).exists()


# ---- reads ---------------------------------------------------------------------------------------


def test_a_case_carries_tier_persona_next_steps_and_the_limitation_deadline(client, world):
    items = get(client, world, "collector", "/cases").json()["items"]
    assert len(items) == 1
    case = items[0]
    stored = Case.objects.get(pk=case["id"])
    assert case["unit_id"] == world.unit_a.pk and case["owner"] == "王小明"
    assert case["tier"] == stored.tier and case["persona"] == (stored.suggested_persona or "")
    assert case["principal"] == f"{stored.principal:.2f}"
    assert case["limitation_deadline"] == (stored.limitation_deadline.isoformat() if stored.limitation_deadline else None)
    assert case["situations"] == stored.situation_list and case["techniques"] == stored.technique_list
    open_tasks = list(stored.tasks.filter(status="open").order_by("due_on", "-priority", "pk").values_list("pk", flat=True))
    assert [step["task_id"] for step in case["next_steps"]] == open_tasks
    assert get(client, world, "collector", f"/cases/{case['id']}").json() == case


def test_the_statement_as_of_a_date_matches_the_ledger_to_the_fen(client, world):
    # 100 m² × 2.00 = 200.00 a month, Jan–May billed; nothing paid; the May charge is due on the 5th
    body = get(client, world, "collector", f"/units/{world.unit_a.pk}/statement?as_of=2026-05-12").json()
    assert body["principal"] == "1000.00"
    assert [c["outstanding"] for c in body["charges"]] == ["200.00"] * 5
    earlier = get(client, world, "collector", f"/units/{world.unit_a.pk}/statement?as_of=2026-02-10").json()
    assert earlier["principal"] == "400.00"  # January and February were due by then
    late = get(client, world, "collector", f"/units/{world.unit_a.pk}/statement?as_of=2027-01-01")
    assert late.status_code == 422 and late.json()["code"] == "as_of"


def test_kpis_are_the_dashboards_figures_over_the_scope(client, world):
    answer = get(client, world, "manager", "/kpis?as_of=2026-05-12")
    assert answer.status_code == 200
    body = answer.json()
    assert body["as_of"] == "2026-05-12" and body["community_id"] is None
    assert body["figures"]["households_billed"] == 2  # A's two units, not B's
    assert get(client, world, "manager", f"/kpis?community_id={world.b.pk}").status_code == 404


def test_cursor_pagination_walks_every_row_once(client, world):
    seen, cursor = [], None
    while True:
        query = "/charges?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = get(client, world, "collector", query).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 10  # two units of A × five months
    assert get(client, world, "collector", "/charges?cursor=garbage").status_code == 400
    assert get(client, world, "collector", "/charges?limit=0").status_code == 422
    assert get(client, world, "collector", "/charges?limit=201").status_code == 422
    assert get(client, world, "collector", f"/charges?community_id={2**64}").status_code == 422


@pytest.mark.parametrize("path", ["/units", "/owners", "/charges", "/payments", "/cases", "/tasks", "/communities"])
def test_lists_keep_a_constant_number_of_queries(client, world, path):
    get(client, world, "root", path)  # the token's last use is written at most once a minute: not in the count

    def count(limit):
        with CaptureQueriesContext(connection) as queries:
            assert get(client, world, "root", f"{path}?limit={limit}").status_code == 200
        return len(queries)

    assert count(1) == count(200)


# ---- problems in both languages -----------------------------------------------------------------


def test_problems_speak_the_callers_language(client, world):
    body = payment_body(world, paid_on="2026-06-01")
    zh = post(client, world, "finance", "/payments", body, HTTP_IDEMPOTENCY_KEY="future-1").json()
    en = post(client, world, "finance", "/payments", body, HTTP_IDEMPOTENCY_KEY="future-2",
              HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").json()
    assert zh["detail"] == "缴费日期不能晚于今天" and zh["status"] == 422 and zh["code"] == "future"
    assert en["detail"] == "payment date is in the future"
    invalid = post(client, world, "finance", "/payments", payment_body(world, amount="12.345"),
                   HTTP_IDEMPOTENCY_KEY="bad-amount", HTTP_ACCEPT_LANGUAGE="en")
    problem = invalid.json()
    assert invalid.status_code == 422 and problem["code"] == "validation"
    assert problem["errors"][0]["loc"][-1] == "amount" and problem["errors"][0]["message"] == "wrong format"
    zh_invalid = post(client, world, "finance", "/payments", payment_body(world, amount="12.345"),
                      HTTP_IDEMPOTENCY_KEY="bad-amount-zh").json()
    assert zh_invalid["errors"][0]["message"] == "格式不正确"
    assert not Payment.objects.filter(unit=world.unit_a).exists()


# ---- writes ---------------------------------------------------------------------------------------


def test_a_payment_with_an_idempotency_key_is_taken_once(client, world):
    first = post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == 201, first.content
    again = post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="pay-1")
    assert again.status_code == 201 and again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Payment.objects.filter(unit=world.unit_a).count() == 1
    payment = Payment.objects.get(unit=world.unit_a)
    assert payment.amount == 400 and payment.operator == world.users["finance"] and payment.reference == "TX-20260512-001"
    assert first.json()["receipt_number"] == payment.receipt_number and first.json()["case_open"] is True
    other = post(client, world, "finance", "/payments", payment_body(world, amount="1.00"), HTTP_IDEMPOTENCY_KEY="pay-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    missing = post(client, world, "finance", "/payments", payment_body(world, reference="TX-2"))
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_missing"
    reused_reference = post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="pay-2")
    assert reused_reference.status_code in (409, 422)
    assert Payment.objects.filter(unit=world.unit_a).count() == 1
    # each user has their own keys
    assert IdempotentRequest.objects.get().community_id == world.a.pk


def test_paying_everything_closes_the_case(client, world):
    answer = post(client, world, "finance", "/payments", payment_body(world, amount="1000.00", method="cash",
                                                                       reference=""), HTTP_IDEMPOTENCY_KEY="all")
    assert answer.status_code == 201, answer.content
    assert answer.json()["case_open"] is False
    assert Case.objects.get(unit=world.unit_a).status == CaseStatus.CLOSED


def test_attempts_promises_and_tickets_go_through_the_services(client, world):
    case = Case.objects.get(unit=world.unit_a)
    spouse = world.owner_a.contacts.get(relation="spouse")
    third = post(client, world, "collector", f"/cases/{case.pk}/attempts",
                 {"channel": "call", "outcome": "promised", "contact_id": spouse.pk,
                  "promise_amount": "100.00", "promise_due": "2026-05-20"})
    assert third.status_code == 422  # the spouse may not hear of the debt, nor promise for the owner
    logged = post(client, world, "collector", f"/cases/{case.pk}/attempts",
                  {"channel": "call", "outcome": "answered", "at": "2026-05-12T09:30:00+08:00", "notes": "下周缴"})
    assert logged.status_code == 201, logged.content
    attempt = ContactAttempt.objects.get(pk=logged.json()["id"])
    assert attempt.staff == world.users["collector"] and attempt.notes == "下周缴"
    promise = post(client, world, "collector", f"/cases/{case.pk}/promises", {"amount": "600.00", "due_on": "2026-05-20"})
    assert promise.status_code == 201 and Promise.objects.get().amount == 600
    too_much = post(client, world, "collector", f"/cases/{case.pk}/promises", {"amount": "99999.00", "due_on": "2026-05-20"})
    assert too_much.status_code == 422
    ticket = post(client, world, "collector", f"/units/{world.unit_a.pk}/tickets", {"kind": "repair", "summary": "楼道灯坏"},
                  HTTP_IDEMPOTENCY_KEY="t-1")
    again = post(client, world, "collector", f"/units/{world.unit_a.pk}/tickets", {"kind": "repair", "summary": "楼道灯坏"},
                 HTTP_IDEMPOTENCY_KEY="t-1")
    assert ticket.status_code == again.status_code == 201 and ServiceTicket.objects.count() == 1
    foreign = world.owner_b.contacts.get()
    wrong_contact = post(client, world, "collector", f"/cases/{case.pk}/attempts",
                         {"channel": "call", "outcome": "answered", "contact_id": foreign.pk})
    assert wrong_contact.status_code == 422 and wrong_contact.json()["code"] == "contact"


# ---- rate limit and audit -----------------------------------------------------------------------


def test_a_token_is_rate_limited(client, world, settings):
    settings.ARREARS_API_RATE_LIMIT = (3, 60)
    answers = [get(client, world, "collector", "/units").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = get(client, world, "collector", "/units")
    assert limited["Retry-After"] == "60" and limited.json()["code"] == "rate_limited"
    assert get(client, world, "manager", "/units").status_code == 200  # another token has its own count


def test_guessing_tokens_is_rate_limited_by_address(client, world, settings):
    settings.ARREARS_API_AUTH_FAILURES = (3, 60)
    answers = [client.get("/api/v1/units", HTTP_AUTHORIZATION=f"Bearer arr_guess{i}").status_code for i in range(4)]
    assert answers == [401, 401, 401, 429]


def test_every_call_is_audited(client, world):
    get(client, world, "collector", "/owners?limit=5")
    client.get("/api/v1/units")
    calls = list(AuditEvent.objects.filter(action="api.call").order_by("pk"))
    assert [(c.actor, c.detail["path"], c.detail["status"]) for c in calls] == [
        (world.users["collector"], "/api/v1/owners", 200), (None, "/api/v1/units", 401)]
    assert calls[0].detail["query"] == "limit=5" and calls[0].detail["token"] is not None
