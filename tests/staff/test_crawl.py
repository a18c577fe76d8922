"""Nothing 500s: the demo company, after its daily run and a working morning, crawled as each demo role.

Every link of the staff site reachable from the home page is followed (same host, GET only, a few
per URL pattern so the crawl stays fast), then every staff URL pattern that takes a pk is tried with
sample pks whether or not a page links to it, then the owner's statement link is crawled without a
login. The test fails listing every URL that answered 5xx, with the exception behind it.
"""

import contextlib
import re
import sys
from collections import Counter
from datetime import datetime
from io import StringIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.signals import got_request_exception
from django.test import Client
from django.urls import URLPattern, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone

from arrears.collection.models import Case, CaseStatus, ContactAttempt, Task
from arrears.collection.run import run_collection
from arrears.collection.services import correct_attempt, log_attempt
from arrears.ledger.models import Payment
from arrears.notices import letters
from arrears.notices.models import Letter, LetterBatch, LetterKind, NoticeTemplate
from arrears.notices.outbox import dispatch
from arrears.portal.models import Receipt

NOW = datetime(2026, 5, 11, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday morning, in the contact window
DEMO_UNITS = 80
PER_PATTERN = 4  # links followed per URL pattern and role: enough to meet each kind of row, fast on SQLite
SKIPPED_PREFIXES = ("/static/", "/media/", "/admin/", "/i18n/", "/logout/")
HREF = re.compile(r"""href=["']([^"'#]+)""")


def _demo():
    """The demo code (logins, fee compositions, an owner's link): the one place this test names where it lives."""
    from types import SimpleNamespace

    from arrears.demo.portal import ensure_fee_compositions, sample_link
    from arrears.demo.staff import LOGINS, ensure_demo_staff

    return SimpleNamespace(usernames=[login.username for login in LOGINS], ensure_users=ensure_demo_staff,
                           ensure_fee_compositions=ensure_fee_compositions, sample_link=sample_link)


@pytest.fixture
def demo_company(db, settings):
    """The demo company at small size, its logins, the day's run, and a morning's work on top."""
    settings.NOTICES_CHANNELS = {"sms": {"BACKEND": "arrears.notices.channels.console.ConsoleBackend"},
                                 "email": {"BACKEND": "arrears.notices.channels.console.ConsoleBackend"}}
    with time_machine.travel(NOW, tick=False):
        call_command("demo-data", units=DEMO_UNITS, seed=2026, stdout=StringIO())
        _demo().ensure_users()
        _demo().ensure_fee_compositions(published_on=NOW.date().replace(month=1, day=1))
        run_collection(as_of=timezone.localdate())
        _morning(get_user_model().objects.get(username="collector"), get_user_model().objects.get(username="legal"))
        yield


def _morning(collector, legal) -> None:
    """Rows a fresh demo lacks: an attempt with its staff member and a correction, sent messages, letters."""
    today = timezone.localdate()
    case = Case.objects.filter(status=CaseStatus.OPEN).select_related("unit", "owner").order_by("pk").first()
    attempt = log_attempt(unit=case.unit, owner=case.owner, channel="call", outcome="no_answer", staff=collector, case=case,
                          at=timezone.now())
    correct_attempt(attempt=attempt, staff=collector, correction_reason="录错了结果", outcome="refused")
    # the demo staffs every case and attempt; history imported from elsewhere often has neither
    other = Case.objects.filter(status=CaseStatus.OPEN).exclude(pk=case.pk).select_related("unit", "owner").order_by("pk").first()
    log_attempt(unit=other.unit, owner=other.owner, channel="call", outcome="no_answer", staff=None, case=other,
                at=timezone.now())
    Case.objects.filter(pk=other.pk).update(collector=None)
    with contextlib.redirect_stdout(StringIO()):  # the console SMS backend prints each message
        dispatch(now=timezone.now(), limit=50)
    community_id = case.community_id
    cases = list(Case.objects.filter(status=CaseStatus.OPEN, community_id=community_id).order_by("pk")[:3])
    letters.issue_batch(kind=LetterKind.COLLECTION, cases=cases, issued_on=today, staff=legal)


class Crawler:
    """Follows same-host links with GET, at most PER_PATTERN per URL pattern, and notes every 5xx."""

    def __init__(self, client: Client, who: str):
        self.client, self.who = client, who
        self.seen: set[str] = set()
        self.per_pattern: Counter = Counter()
        self.failures: list[str] = []
        self.pages = 0

    def crawl(self, *starts: str) -> None:
        queue = list(starts)
        while queue:
            url = queue.pop(0)
            if url in self.seen:
                continue
            self.seen.add(url)
            response = self.get(url)
            if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
                queue += [link for link in self.links(url, response.content.decode()) if self.take(link)]

    def get(self, url: str):
        caught = []

        def note(sender, request=None, **kwargs):
            caught.append(repr(sys.exc_info()[1]))

        got_request_exception.connect(note, weak=False)
        try:
            response = self.client.get(url)
        finally:
            got_request_exception.disconnect(note)
        self.pages += 1
        if response.status_code >= 500:
            self.failures.append(f"{self.who}: GET {url} → {response.status_code} {'; '.join(caught)}")
        return response

    @staticmethod
    def links(base: str, html: str) -> list[str]:
        found = []
        for href in HREF.findall(html):
            href = href.replace("&amp;", "&")
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "tel:", "javascript:", "data:")):
                continue  # another host, or not a page
            if not href.startswith("/"):
                href = base.split("?")[0] + href if href.startswith("?") else base.rsplit("/", 1)[0] + "/" + href
            if href.startswith(SKIPPED_PREFIXES):
                continue
            found.append(href)
        return found

    def take(self, url: str) -> bool:
        if url in self.seen:
            return False
        try:
            pattern = resolve(urlsplit(url).path).route
        except Resolver404:
            return True  # a dead link is worth one request: it must answer 404, not 500
        if self.per_pattern[pattern] >= PER_PATTERN:
            return False
        self.per_pattern[pattern] += 1
        return True


def _staff_patterns() -> list[tuple[str, URLPattern]]:
    """(name, pattern) of every staff URL that takes a number, e.g. staff:letter for letters/<int:pk>/."""
    resolver = get_resolver()
    found = []
    for entry in resolver.url_patterns:
        namespace = getattr(entry, "namespace", None)
        if namespace != "staff":
            continue
        for pattern in entry.url_patterns:
            if isinstance(pattern, URLPattern) and "<int:" in str(pattern.pattern):
                found.append((pattern.name, pattern))
    return found


def _sample_pks() -> dict[str, list[int]]:
    """Sample pks per URL name: first and last rows of the model each page shows; others get 1 and a missing one."""

    def ends(queryset):
        pks = list(queryset.order_by("pk").values_list("pk", flat=True))
        return sorted({pks[0], pks[-1]}) if pks else []

    from arrears.collection.models import LimitationEvent, OutgoingMessage
    from arrears.estate.models import Unit
    from arrears.ledger.models import ImportJob
    from arrears.portal.models import Complaint, InstalmentRequest

    units, cases = ends(Unit.objects), ends(Case.objects)
    return {
        "unit": units, "unit_attachment": units, "cashier": units,
        "case_attempt": cases, "case_promise": cases, "case_profile": cases, "case_acknowledgement": cases, "case_suit": cases,
        "attempt_correct": ends(ContactAttempt.objects), "task_log": ends(Task.objects),
        "event_proof": ends(LimitationEvent.objects), "import-job": ends(ImportJob.objects),
        "letter_batch": ends(LetterBatch.objects),
        "letter": ends(Letter.objects), "letter_pdf": ends(Letter.objects), "letter_proof": ends(Letter.objects),
        "letter_deliver": ends(Letter.objects), "letter_correct_delivery": ends(Letter.objects),
        "outbox_message": ends(OutgoingMessage.objects), "outbox_resend": ends(OutgoingMessage.objects),
        "template_edit": ends(NoticeTemplate.objects), "template_override": ends(NoticeTemplate.objects),
        "instalment_decide": ends(InstalmentRequest.objects), "complaint_resolve": ends(Complaint.objects),
        "receipt_pdf": ends(Receipt.objects),
    }


def _pattern_urls() -> list[str]:
    """One URL per sample pk for every staff pattern that takes one; 1 and a missing pk where no sample fits."""
    samples = _sample_pks()
    urls = []
    for name, pattern in _staff_patterns():
        route = str(pattern.pattern)
        for pk in samples.get(name) or [1, 987654321]:
            path = re.sub(r"<int:[a-z_]+>", str(pk), route)
            path = re.sub(r"<str:what>", "pdf", path)
            path = re.sub(r"<str:[a-z_]+>", "x", path)
            urls.append("/" + path)
    return urls


def test_it_answers_no_5xx_to_any_role_anywhere(demo_company):
    # given: the demo company after its run, with rows that miss optional relations (attempts without staff,
    # cases without collector, payments without receipt) and rows that have them
    assert ContactAttempt.objects.filter(staff__isnull=True).exists() and ContactAttempt.objects.filter(staff__isnull=False).exists()
    assert Case.objects.filter(collector__isnull=True).exists() and Case.objects.filter(collector__isnull=False).exists()
    assert Payment.objects.filter(receipt__isnull=True).exists()
    assert Letter.objects.exists()
    failures, pages = [], Counter()
    with time_machine.travel(NOW, tick=False):
        pattern_urls = _pattern_urls()
        # English too, for the role that sees the most: a translation whose placeholders differ fails only there
        for username, language in [(name, "zh-hans") for name in _demo().usernames] + [("manager", "en")]:
            # when: each role follows every link from home, then every pk page
            client = Client(raise_request_exception=False)
            client.cookies.load({"django_language": language})
            client.force_login(get_user_model().objects.get(username=username))
            crawler = Crawler(client, f"{username} ({language})")
            crawler.crawl("/")
            for url in pattern_urls:
                if url not in crawler.seen:
                    crawler.seen.add(url)
                    crawler.get(url)
            failures += crawler.failures
            pages[username] = max(pages[username], crawler.pages)
        # and the owner, on the statement link, with no login
        owner = Crawler(Client(raise_request_exception=False), "owner")
        owner.crawl(urlsplit(_demo().sample_link()).path, "/", "/s/not-a-link/")
        english_owner = Crawler(Client(raise_request_exception=False), "owner (en)")
        english_owner.client.cookies.load({"django_language": "en"})
        english_owner.crawl(urlsplit(_demo().sample_link()).path)
        failures += owner.failures + english_owner.failures
    # then
    assert not failures, "\n".join(failures)
    assert pages["manager"] > 40 and pages["collector"] > 30  # the crawl reached the site, not only the login page
