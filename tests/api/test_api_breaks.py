"""Attacks on the REST API, one test per attack; those that broke it once say BROKE.

A token of community A against community B, a front-desk token after amounts or names, tokens that
should be dead, the token page, a careless integrator's payments, and the owner's lawyer asking
whether the API can touch evidence. The fixture world is tests/api/rest.py.
"""

import json
import logging
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client

from arrears.api.models import ApiToken, IdempotentRequest
from arrears.collection.models import Case, ContactAttempt, Promise
from arrears.core import roles
from arrears.core.models import AuditEvent
from arrears.estate.models import ServiceTicket
from arrears.ledger.models import Charge, Payment
from arrears.portal.models import Receipt
from tests import factories
from tests.api import rest
from tests.api.rest import get, post
from tests.races import race

pytestmark = pytest.mark.django_db








def payment_body(world, **changes):
    body = {"unit_id": world.unit_a.pk, "owner_id": world.owner_a.pk, "amount": "400.00", "method": "bank_transfer",
            "paid_on": "2026-05-12", "reference": "TX-20260512-001"}
    body.update(changes)
    return body


def is_problem(answer, status, code=None):
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/problem+json", answer.content
    if code is not None:
        assert answer.json()["code"] == code, answer.content
    return answer.json()


# ---- (1) a token of community A against community B ---------------------------------------------


def test_filters_naming_another_communitys_rows_give_nothing(client, world):
    # Attack: list endpoints with B's ids in the query filters.
    case_b = Case.objects.get(unit=world.unit_b)
    for path in (f"/units?community_id={world.b.pk}", f"/units?building_id={world.unit_b.building_id}",
                 f"/owners?unit_id={world.unit_b.pk}", f"/charges?owner_id={world.owner_b.pk}",
                 f"/payments?community_id={world.b.pk}", f"/cases?unit_id={world.unit_b.pk}",
                 f"/cases?community_id={world.b.pk}&status=closed", f"/tasks?case_id={case_b.pk}",
                 f"/tasks?community_id={world.b.pk}&status=done"):
        answer = get(client, world, "collector", path)
        assert answer.status_code == 200 and answer.json()["items"] == [], path


def test_a_forged_cursor_only_moves_within_the_scope(client, world):
    # Attack: a cursor crafted by hand (id 0, and far past the end) walks only the token's rows.
    from arrears.api.pagination import encode
    items = get(client, world, "collector", f"/charges?cursor={encode(0)}").json()["items"]
    assert items and {c["community_id"] for c in items} == {world.a.pk}
    assert get(client, world, "collector", f"/charges?cursor={encode(2**62)}").json()["items"] == []
    is_problem(get(client, world, "collector", "/charges?cursor=aWQ6LTE"), 400, "cursor")  # "id:-1"


@pytest.mark.parametrize("path", ["/units/99999999999999999999999", "/units/-1", "/units/0", "/units/١",
                                  "/units/1.5", "/units?community_id=١", f"/cases/{2**63}",
                                  "/units?limit=999999999999999999999", "/units?cursor=" + "a" * 5000])
def test_odd_ids_and_values_are_invalid_not_crashes(client, world, path):
    # Attack: huge, negative, zero, Arabic-Indic and fractional ids; a huge limit; a very long cursor.
    assert get(client, world, "collector", path).status_code in (400, 422)


def test_body_ids_of_another_owner_or_community_are_refused(client, world):
    # Attack: a payment on A's unit naming B's owner, or ticking B's charges or the neighbour's.
    foreign = post(client, world, "finance", "/payments", payment_body(world, owner_id=world.owner_b.pk),
                   HTTP_IDEMPOTENCY_KEY="foreign-owner")
    is_problem(foreign, 422, "not_owner")
    for unit in (world.unit_b, world.paid_unit):
        charge = Charge.objects.filter(unit=unit).first()
        ticked = post(client, world, "finance", "/payments", payment_body(world, charge_ids=[charge.pk]),
                      HTTP_IDEMPOTENCY_KEY=f"foreign-charge-{unit.pk}")
        is_problem(ticked, 422, "designation")
    assert not Payment.objects.filter(unit=world.unit_a).exists()


def test_a_building_scoped_token_gets_the_kpis_of_its_building_only(client, world):
    # Attack: a collector of one building asks for the whole community's KPIs.
    figures = get(client, world, "building5", f"/kpis?as_of=2026-05-12&community_id={world.a.pk}").json()["figures"]
    assert figures["households_billed"] == 1
    assert {o["id"] for o in get(client, world, "building5", "/owners").json()["items"]} == {world.owner_paid.pk}


def test_unknown_fields_in_a_write_are_refused_not_ignored(client, world):
    # BROKE: a misspelt "charge_id" (or a hopeful "operator_id") was dropped silently: the money went
    # by the company's rule instead of the payer's designation, and the replay fingerprint matched.
    oldest = Charge.objects.filter(unit=world.unit_a).order_by("-due_date").first()
    for extra in ({"charge_id": [oldest.pk]}, {"operator_id": world.users["root"].pk}):
        answer = post(client, world, "finance", "/payments", payment_body(world, **extra),
                      HTTP_IDEMPOTENCY_KEY=f"extra-{next(iter(extra))}")
        problem = is_problem(answer, 422, "validation")
        assert problem["errors"][0]["loc"][-1] == next(iter(extra))
    case = Case.objects.get(unit=world.unit_a)
    answer = post(client, world, "collector", f"/cases/{case.pk}/attempts",
                  {"channel": "call", "outcome": "answered", "staff_id": world.users["root"].pk})
    is_problem(answer, 422, "validation")
    english = post(client, world, "finance", "/payments", payment_body(world, charge_id=[1]), HTTP_IDEMPOTENCY_KEY="x-en",
                   HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["errors"][0]["message"] == "no such field"
    assert not Payment.objects.filter(unit=world.unit_a).exists() and not ContactAttempt.objects.exists()


def test_bodies_that_are_not_json_objects_are_problems(client, world):
    # Attack: a form-encoded body, broken JSON, a JSON array, a JSON string.
    for data, content_type in (("unit_id=1&amount=1", "application/x-www-form-urlencoded"), ("{", "application/json"),
                               ("[]", "application/json"), ('"x"', "application/json")):
        answer = post(client, world, "finance", "/payments", data, content_type=content_type,
                      HTTP_IDEMPOTENCY_KEY=f"body-{len(data)}-{content_type[-4:]}")
        assert answer.status_code in (400, 422) and answer["Content-Type"] == "application/problem+json", data
    assert not Payment.objects.filter(unit=world.unit_a).exists()


def test_methods_and_paths_the_api_does_not_have_are_problems(client, world):
    # BROKE: DELETE /payments and PUT on an attempt answered Django's bare "Method not allowed" in
    # text/html, and a trailing slash or an unknown path answered the staff site's HTML 404 page.
    case = Case.objects.get(unit=world.unit_a)
    deleted = client.delete("/api/v1/payments", **world.auth("finance"), HTTP_ACCEPT_LANGUAGE="en")
    problem = is_problem(deleted, 405, "method_not_allowed")
    assert problem["title"] == "Method not allowed" and "POST" in deleted["Allow"]
    assert problem["detail"].startswith("this address does not take DELETE requests")
    is_problem(client.put(f"/api/v1/cases/{case.pk}/attempts", **world.auth("collector")), 405)
    for path in ("/api/v1/units/", "/api/v1/nothing-here", "/api/v1/units/1/statement/"):
        is_problem(client.get(path, **world.auth("collector")), 404, "not_found")


# ---- roles: the front desk ------------------------------------------------------------------------


def test_the_front_desk_gets_masked_owners_only_and_writes_nothing(client, world):
    # Attack: the front desk after names, numbers or amounts through the owner list, the case and
    # KPI reads and the writes' refusals. The ID number is masked as on the unit page.
    owners = get(client, world, "desk", "/owners").json()["items"]
    assert owners and all(o["contacts"] == [] and o["name"].endswith("**") for o in owners)
    assert {o["id_number"] for o in owners} <= {"", "310***********3456"}
    case = Case.objects.get(unit=world.unit_a)
    for path in (f"/cases/{case.pk}", "/tasks", f"/kpis?community_id={world.a.pk}"):
        is_problem(get(client, world, "desk", path), 403, "forbidden")
    for path, body in ((f"/cases/{case.pk}/attempts", {"channel": "call", "outcome": "answered"}),
                       (f"/cases/{case.pk}/promises", {"amount": "1.00", "due_on": "2026-05-20"}),
                       ("/payments", payment_body(world))):
        problem = is_problem(post(client, world, "desk", path, body, HTTP_IDEMPOTENCY_KEY="desk"), 403, "forbidden")
        assert not re.search(r"\d+\.\d\d|王小明|1391234", json.dumps(problem, ensure_ascii=False)), path


# ---- tokens ---------------------------------------------------------------------------------------


def test_bearer_header_tricks_never_authenticate(client, world):
    # Attack: odd spacing, a token with a suffix or a prefix only, non-ASCII, a huge header, the token
    # in the query string; "bearer" in lower case is the same scheme (RFC 9110) and works.
    raw = world.tokens["collector"]
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION=f"bearer {raw}").status_code == 200
    for header in (f"Bearer  {raw}", f"Bearer {raw} ", f"Bearer {raw}x", f"Bearer {raw[:-1]}", f"Bearer {raw[:12]}",
                   f"Bearer {raw}\u200b", "Bearer arr_" + "A" * 100000, f"Basic {raw}", raw, "Bearer "):
        assert client.get("/api/v1/units", HTTP_AUTHORIZATION=header).status_code == 401, header[:40]
    assert client.get(f"/api/v1/units?token={raw}").status_code == 401


def test_a_user_losing_a_role_or_being_deactivated_loses_the_token_at_once(client, world):
    # Attack: a token kept working on what the user was (a cached user or cached permissions).
    assert get(client, world, "finance", "/payments").status_code == 200
    world.users["finance"].groups.clear()
    is_problem(get(client, world, "finance", "/payments"), 403)
    assert get(client, world, "manager", "/cases").status_code == 200
    type(world.users["manager"]).objects.filter(pk=world.users["manager"].pk).update(is_active=False)
    is_problem(get(client, world, "manager", "/cases"), 401)


def test_the_token_page_keeps_the_raw_token_out_of_the_database(client, db):
    # BROKE: the new token waited in the session, and sessions live in the database: a copy of the
    # database (a backup) held a working token until the user opened the page again.
    cache.clear()
    ann = factories.user("ann", groups=[roles.COLLECTOR])
    client.force_login(ann)
    assert client.post("/api-tokens/", {"name": "金蝶对接", "days": "30"}).status_code == 302
    stored = json.dumps([s.get_decoded() for s in Session.objects.all()], default=str)
    stored += json.dumps(list(AuditEvent.objects.values("detail")), default=str)
    assert "arr_" not in stored
    page = client.get("/api-tokens/").content.decode()
    raw = re.search(r'data-testid="token-text">(arr_[A-Za-z0-9_-]+)<', page).group(1)
    assert raw not in client.get("/api-tokens/").content.decode()  # shown once
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_the_token_page_refuses_cross_site_posts_and_other_users_tokens(db):
    # Attack: a forged form (no CSRF token) creating or revoking a token; revoking someone else's.
    cache.clear()
    ann, bob = factories.user("ann", groups=[roles.COLLECTOR]), factories.user("bob", groups=[roles.FINANCE])
    from arrears.api import tokens
    bobs = tokens.issue(user=bob, name="bob 的").token
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(bob)
    assert forged.post(f"/api-tokens/{bobs.pk}/revoke/").status_code == 403
    assert forged.post("/api-tokens/", {"name": "x", "days": "30"}).status_code == 403
    nosy = Client()
    nosy.force_login(ann)
    assert nosy.post(f"/api-tokens/{bobs.pk}/revoke/").status_code == 404
    assert nosy.get(f"/api-tokens/{bobs.pk}/revoke/").status_code == 405
    assert "bob 的" not in nosy.get("/api-tokens/").content.decode()
    bobs.refresh_from_db()
    assert bobs.revoked_at is None and ApiToken.objects.count() == 1


def test_no_raw_token_and_no_personal_data_in_logs_or_audit_events(client, world, caplog):
    # Attack: read the log and the audit trail for tokens, owners' names and numbers.
    caplog.set_level(logging.DEBUG)
    get(client, world, "collector", "/owners")
    get(client, world, "collector", f"/units/{world.unit_a.pk}/statement")
    client.get("/api/v1/units", HTTP_AUTHORIZATION="Bearer arr_wrong")
    case = Case.objects.get(unit=world.unit_a)
    post(client, world, "collector", f"/cases/{case.pk}/attempts", {"channel": "call", "outcome": "answered", "notes": "王小明说下周缴"})
    post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="log-1")
    trail = json.dumps(list(AuditEvent.objects.values("action", "detail")), ensure_ascii=False, default=str)
    for secret in [*world.tokens.values(), "arr_wrong", "王小明", "13912348888", "310101199002023456"]:
        assert secret not in trail and secret not in caplog.text, secret
    assert "Bearer" not in caplog.text


# ---- (2) a careless integrator ------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0.00", "1e3", "١٢٣", "５.００", "  5.00 ", "-1.00", "1,000.00", "NaN", "0x10", "", "5.001"])
def test_amounts_that_are_not_plain_yuan_are_refused(client, world, amount):
    # BROKE for "١٢٣" and "５.００": Unicode digits matched the pattern's \d and Decimal read them,
    # so the finance system's garbled field took ¥123 and ¥5.
    answer = post(client, world, "finance", "/payments", payment_body(world, amount=amount), HTTP_IDEMPOTENCY_KEY="amt")
    assert answer.status_code == 422 and answer["Content-Type"] == "application/problem+json"
    assert not Payment.objects.filter(unit=world.unit_a).exists()


def test_a_payment_dated_long_ago_is_refused_not_a_crash(client, world):
    # BROKE: paid_on 1900-01-01 crashed the case closing (no holiday calendar for 1900): a 500.
    for day, code in (("1900-01-01", "paid_on"), ("1999-12-31", "paid_on"), ("2026-05-13", "future")):
        answer = post(client, world, "finance", "/payments", payment_body(world, amount="1000.00", paid_on=day),
                      HTTP_IDEMPOTENCY_KEY=f"day-{day}", HTTP_ACCEPT_LANGUAGE="en")
        problem = is_problem(answer, 422, code)
        assert not re.search(r"[\u4e00-\u9fff]", problem["detail"])
    assert not Payment.objects.filter(unit=world.unit_a).exists()


def test_control_characters_in_text_are_refused(client, world):
    # BROKE: a NUL in an attempt's notes or a ticket's summary was stored on SQLite and crashed
    # PostgreSQL (a 500); the pages' forms refuse it.
    case = Case.objects.get(unit=world.unit_a)
    for path, body in ((f"/cases/{case.pk}/attempts", {"channel": "call", "outcome": "answered", "notes": "a\x00b"}),
                       (f"/units/{world.unit_a.pk}/tickets", {"kind": "repair", "summary": "漏水\x00"})):
        problem = is_problem(post(client, world, "collector", path, body), 422, "validation")
        assert problem["errors"][0]["code"] == "null_character" and problem["errors"][0]["message"] == "不能包含空字符（NUL）"
    answer = post(client, world, "finance", "/payments", payment_body(world, reference="TX\x00-1"), HTTP_IDEMPOTENCY_KEY="nul")
    is_problem(answer, 422, "validation")
    assert not ContactAttempt.objects.exists() and not ServiceTicket.objects.exists() and not Payment.objects.filter(
        unit=world.unit_a).exists()


def test_the_same_key_from_two_users_is_two_keys(client, world):
    # Attack: the manager replays finance's key hoping for finance's answer (or to block finance).
    world.users["manager"].groups.add(*world.users["finance"].groups.all())
    first = post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="shared")
    second = post(client, world, "manager", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="shared")
    assert first.status_code == 201
    is_problem(second, 409)  # the reference was taken: the manager's own answer, not finance's
    assert "Idempotent-Replayed" not in second
    assert Payment.objects.filter(unit=world.unit_a).count() == 1


def test_the_same_money_under_two_keys_is_refused_and_the_refusal_is_audited(client, world):
    # BROKE (audit): a second entry of one transfer under a new key was refused, but unlike the
    # cashier page the API left no cashier.payment_refused event for a reviewer to find.
    post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(client, world, "finance", "/payments", payment_body(world, reference=" tx-20260512-001 "),
                 HTTP_IDEMPOTENCY_KEY="k-2")
    is_problem(again, 409, "duplicate_reference")
    refused = AuditEvent.objects.get(action="cashier.payment_refused")
    assert refused.actor == world.users["finance"] and refused.detail["step"] == "api"
    assert Payment.objects.filter(unit=world.unit_a).count() == 1
    assert not IdempotentRequest.objects.filter(key="k-2").exists()  # the key is free again


def test_a_retry_after_a_refusal_runs_again_with_the_same_key(client, world):
    # Attack: the first try is refused (future date); the integrator fixes the date and retries the key.
    refused = post(client, world, "finance", "/payments", payment_body(world, paid_on="2026-05-13"), HTTP_IDEMPOTENCY_KEY="r")
    is_problem(refused, 422, "future")
    fixed = post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="r")
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed
    replay = post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="r")
    assert replay.json() == fixed.json() and replay["Idempotent-Replayed"] == "true"


def test_attempt_times_and_promises_stay_within_the_rules(client, world):
    # Attack: naive datetimes, far past and future times, promises beyond the debt or the 60 days.
    case = Case.objects.get(unit=world.unit_a)
    naive = post(client, world, "collector", f"/cases/{case.pk}/attempts",
                 {"channel": "call", "outcome": "no_answer", "at": "2026-05-12T09:30:00"})
    assert naive.status_code == 201  # a time without an offset is Beijing time, as on the pages
    assert datetime.fromisoformat(naive.json()["at"]) == datetime(2026, 5, 12, 1, 30, tzinfo=UTC)
    for at, code in (("1990-01-01T10:00:00", "at_too_old"), ("2030-01-01T10:00:00+08:00", "at_future"),
                     ("2100-12-31T23:59:59+14:00", "at_future")):
        is_problem(post(client, world, "collector", f"/cases/{case.pk}/attempts",
                        {"channel": "call", "outcome": "answered", "at": at}), 422, code)
    for body in ({"amount": "99999.00", "due_on": "2026-05-20"}, {"amount": "10.00", "due_on": "2026-05-11"},
                 {"amount": "10.00", "due_on": "2026-07-12"}, {"amount": "0.00", "due_on": "2026-05-20"}):
        assert post(client, world, "collector", f"/cases/{case.pk}/promises", body).status_code == 422, body
    huge = post(client, world, "collector", f"/cases/{case.pk}/attempts",
                {"channel": "call", "outcome": "promised", "promise_amount": "99999.00", "promise_due": "2026-05-20"})
    is_problem(huge, 422)
    assert not Promise.objects.exists() and ContactAttempt.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent connections: PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_requests_with_one_key_take_the_money_once():
    # Attack: the integrator's retry races its first request (two connections, one key).
    cache.clear()
    with time_machine.travel(rest.NOW, tick=False):
        world = rest.build()

        def send():
            return post(Client(), world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="race")

        answers = race(send, send)
    assert all(not isinstance(a, Exception) for a in answers), answers
    assert sorted(a.status_code for a in answers) == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
    assert Payment.objects.filter(unit=world.unit_a).count() == 1 and Receipt.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL refuses NUL in text")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_nul_in_text_is_a_422_on_postgresql_not_a_500():
    # BROKE: PostgreSQL cannot store NUL: the attempt's insert raised, and the API answered 500.
    cache.clear()
    with time_machine.travel(rest.NOW, tick=False):
        world = rest.build()
        case = Case.objects.get(unit=world.unit_a)
        answer = post(Client(), world, "collector", f"/cases/{case.pk}/attempts",
                      {"channel": "call", "outcome": "answered", "notes": "x\x00"})
    is_problem(answer, 422, "validation")


# ---- (3) the owner's lawyer ------------------------------------------------------------------------


def test_no_api_operation_can_change_or_delete_a_record(client, world):
    # Attack: find any PUT, PATCH or DELETE in the API, and try them on the write paths.
    document = client.get("/api/v1/openapi.json").json()
    methods = {method for operations in document["paths"].values() for method in operations}
    assert methods <= {"get", "post"}
    post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="ev")
    case = Case.objects.get(unit=world.unit_a)
    post(client, world, "collector", f"/cases/{case.pk}/attempts", {"channel": "call", "outcome": "no_answer"})
    before = (list(Payment.objects.values()), list(ContactAttempt.objects.values()), AuditEvent.objects.count())
    for method in ("put", "patch", "delete"):
        for path in ("/payments", f"/cases/{case.pk}/attempts", f"/cases/{case.pk}/promises",
                     f"/units/{world.unit_a.pk}/tickets", f"/cases/{case.pk}"):
            assert getattr(client, method)(f"/api/v1{path}", **world.auth("root")).status_code == 405
    assert (list(Payment.objects.values()), list(ContactAttempt.objects.values())) == before[:2]
    assert AuditEvent.objects.count() == before[2] + 15  # each refused call is itself audited


def test_an_api_payment_leaves_a_receipt_and_names_who_took_it(client, world):
    # Attack (the lawyer's question): who took this money, and where is its receipt?
    answer = post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="who")
    payment = Payment.objects.get(pk=answer.json()["id"])
    receipt = Receipt.objects.get(payment=payment)
    assert receipt.number == payment.receipt_number == answer.json()["receipt_number"]
    assert payment.operator == world.users["finance"]
    taken = AuditEvent.objects.get(action="cashier.payment")
    assert taken.actor == world.users["finance"] and taken.detail["payment"] == payment.pk
    call = AuditEvent.objects.get(action="api.call", detail__method="POST")
    assert call.actor == world.users["finance"] and call.detail["status"] == 201
    assert call.detail["token"] == ApiToken.objects.get(user=world.users["finance"]).pk


def test_a_replay_shows_exactly_what_was_recorded(client, world):
    # Attack: later payments and writes change the unit; a replay must still answer the first record.
    first = post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="first")
    post(client, world, "finance", "/payments", payment_body(world, amount="600.00", reference="TX-2"),
         HTTP_IDEMPOTENCY_KEY="second")
    replay = post(client, world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY="first")
    assert replay.json() == first.json()
    payment = Payment.objects.get(pk=first.json()["id"])
    assert (replay.json()["amount"], replay.json()["receipt_number"]) == (f"{payment.amount:.2f}", payment.receipt_number)
    stored = IdempotentRequest.objects.get(key="first")
    assert stored.response == first.json() and stored.status == 201


# ---- bodies: size, duplicate keys, content type; the token page's input ------------------------------


def test_a_body_with_a_key_twice_or_not_declared_as_json_is_refused(client, world):
    # BROKE: {"amount": "1.00", "amount": "400.00"} took ¥400 (the last value wins in Python, the first
    # in other parsers a proxy or a signature check may use); a JSON body sent as text/plain was read.
    twice = (f'{{"unit_id": {world.unit_a.pk}, "owner_id": {world.owner_a.pk}, "amount": "1.00", "amount": "400.00", '
             '"method": "cash", "paid_on": "2026-05-12"}')
    is_problem(post(client, world, "finance", "/payments", twice, HTTP_IDEMPOTENCY_KEY="twice"), 400, "body")
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""):
        answer = post(client, world, "finance", "/payments", json.dumps(payment_body(world)), content_type=kind,
                      HTTP_IDEMPOTENCY_KEY=f"kind-{kind[:5]}", HTTP_ACCEPT_LANGUAGE="en")
        assert answer.status_code in (400, 422), kind
        assert not re.search(r"[\u4e00-\u9fff]", answer.json()["detail"]), kind
    assert post(client, world, "finance", "/payments", payment_body(world), content_type="application/json; charset=utf-8",
                HTTP_IDEMPOTENCY_KEY="utf8").status_code == 201
    assert Payment.objects.filter(unit=world.unit_a).count() == 1


def test_a_body_too_large_is_a_413_not_a_500(client, world):
    # BROKE: a body over Django's 2.5 MB limit raised RequestDataTooBig inside the API: a 500 and
    # a logged traceback for every such request.
    case = Case.objects.get(unit=world.unit_a)
    body = json.dumps({"channel": "call", "outcome": "answered", "notes": "x" * 3_000_000})
    is_problem(post(client, world, "collector", f"/cases/{case.pk}/attempts", body), 413, "too_large")
    deep = "[" * 100_000 + "]" * 100_000  # nesting deeper than the parser's recursion: refused, not a crash
    is_problem(post(client, world, "collector", f"/cases/{case.pk}/attempts", deep), 400, "body")
    assert not ContactAttempt.objects.exists()


def test_a_token_name_with_control_characters_is_refused(client, db):
    # BROKE: the token page stored a NUL in the token's name (PostgreSQL answers that with a 500).
    cache.clear()
    ann = factories.user("ann", groups=[roles.COLLECTOR])
    client.force_login(ann)
    page = client.post("/api-tokens/", {"name": "金蝶\x00对接", "days": "30"}, follow=True).content.decode()
    assert "控制字符" in page and not ApiToken.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent connections: PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_transfer_raced_under_two_keys_is_taken_once_and_the_loser_is_a_conflict():
    # Attack: the integrator's two workers send one bank transfer at once, each with its own key.
    cache.clear()
    with time_machine.travel(rest.NOW, tick=False):
        world = rest.build()

        def send(key):
            return lambda: post(Client(), world, "finance", "/payments", payment_body(world), HTTP_IDEMPOTENCY_KEY=key)

        answers = race(send("w-1"), send("w-2"))
    assert all(not isinstance(a, Exception) for a in answers), answers
    assert sorted(a.status_code for a in answers) == [201, 409], [a.content for a in answers]
    assert Payment.objects.filter(unit=world.unit_a).count() == 1 and Receipt.objects.count() == 1
    assert IdempotentRequest.objects.count() == 1


def test_a_token_or_personal_data_in_the_query_string_never_reaches_the_audit_log(client, world):
    # BROKE: the audit event kept the raw query string: a client sending ?access_token=<token> (as some
    # libraries do) or ?name=王小明 had it written into the append-only log, where it can never be erased.
    raw = world.tokens["collector"]
    get(client, world, "collector", f"/units?limit=5&access_token={raw}&name=王小明&phone=13912348888")
    client.get(f"/api/v1/units?token={raw}")
    queries = [e.detail["query"] for e in AuditEvent.objects.filter(action="api.call").order_by("pk")]
    assert all(raw not in q and "王小明" not in q and "%E7%8E%8B" not in q and "13912348888" not in q for q in queries)
    assert queries[0].startswith("limit=5&") and "access_token=" in queries[0]  # the names stay: what was tried


def test_more_tokens_do_not_buy_more_calls(client, world, settings):
    # BROKE: the limit was counted per token: a user who made ten tokens on the page made ten times the calls.
    from arrears.api import tokens
    settings.ARREARS_API_RATE_LIMIT = (3, 60)
    spare = [tokens.issue(user=world.users["collector"], name=f"第 {n} 个").raw for n in range(3)]
    answers = [client.get("/api/v1/units", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code
               for raw in [world.tokens["collector"], *spare]]
    assert answers == [200, 200, 200, 429]
    assert get(client, world, "manager", "/units").status_code == 200  # another user has their own count


@pytest.mark.parametrize("at", ["2026-05-12", "1778550000", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                "12/05/2026 09:30"])
def test_a_contact_time_must_be_written_out_as_a_date_and_a_time(client, world, at):
    # BROKE: "2026-05-12" was read as midnight and logged for good as a call outside the contact hours
    # (violation outside_hours, evidence against the company for a call never made at night); a
    # number was read as seconds since 1970; year 1 or 9999 with an offset overflowed: a 500.
    case = Case.objects.get(unit=world.unit_a)
    answer = post(client, world, "collector", f"/cases/{case.pk}/attempts", {"channel": "call", "outcome": "no_answer", "at": at},
                  HTTP_ACCEPT_LANGUAGE="en")
    problem = is_problem(answer, 422, "validation")
    assert problem["errors"][0]["loc"][-1] == "at" and problem["errors"][0]["code"] == "datetime_parsing"
    assert not ContactAttempt.objects.exists()


@pytest.mark.parametrize("day", [1778544000, "1778544000", "2026-05-12T00:00:00", "20260512", "2026-5-12"])
def test_a_day_must_be_written_as_yyyy_mm_dd(client, world, day):
    # BROKE: a number was read as seconds since 1970 (1778544000 → 2026-05-12) and a datetime cut to
    # its date: an integrator's wrong field took money on a day nobody wrote.
    answer = post(client, world, "finance", "/payments", payment_body(world, paid_on=day), HTTP_IDEMPOTENCY_KEY="day")
    assert is_problem(answer, 422, "validation")["errors"][0]["loc"][-1] == "paid_on"
    case = Case.objects.get(unit=world.unit_a)
    promise = post(client, world, "collector", f"/cases/{case.pk}/promises", {"amount": "10.00", "due_on": day})
    is_problem(promise, 422, "validation")
    assert not Payment.objects.filter(unit=world.unit_a).exists() and not Promise.objects.exists()
