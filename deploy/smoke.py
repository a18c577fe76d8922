"""The production smoke test: the stack of deploy/ running a company's day by itself.

    .venv/bin/python deploy/smoke.py        (python3 dev.py smoke; .ci/run runs it)

Against the machine's PostgreSQL and Redis (started when down) it builds a fresh database with a
demo company, then starts what the systemd units start — `arrears serve` (gunicorn), a Celery
worker and Celery beat — with DEBUG off and SMS through the file channel, and checks from the
outside, over HTTP, that:

1. beat triggers the daily run (its time set to the next minute by ARREARS_DAILY_RUN_AT) and the
   worker runs it;
2. the worker's sender, every minute by beat, sends what the run queued, through the file channel;
3. a payment recorded through the REST API (with an Idempotency-Key, sent twice) closes its case,
   and money arrives once;
4. a signed payment notification (the sandbox provider's HMAC signature) credits an owner's order
   and closes that case, and a forged one is refused;
5. /healthz answers 200;
6. nothing was sent twice: one file per sent message, one key per file.

The stack's clock is moved (libfaketime, Debian's `faketime`, one offset for every process) to a
working Tuesday morning in Shanghai, 2026-12-01 10:00: the compliance guard sends nothing at night or
on a public holiday, whenever CI happens to run, and the test must not depend on the hour it runs.

Exit status 0 when every check holds; otherwise 1 with what failed, and the processes' logs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DATABASE = "arrears_smoke"
PG = ["-h", "127.0.0.1", "-U", "postgres"]
REDIS_DB_BROKER, REDIS_DB_CACHE = 12, 11
UNITS = 300
SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)  # a working Tuesday (not a holiday, not 调休)
FAKETIME_LIBS = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"]


class Failed(Exception):
    pass


def say(text: str) -> None:
    print(f"[smoke {datetime.now():%H:%M:%S}] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def faketime_library() -> str:
    for path in FAKETIME_LIBS:
        if Path(path).exists():
            return path
    subprocess.run(["apt-get", "install", "-y", "-qq", "faketime"], check=True, env={**os.environ,
                                                                                   "DEBIAN_FRONTEND": "noninteractive"})
    for path in FAKETIME_LIBS:
        if Path(path).exists():
            return path
    raise Failed("libfaketime not found after installing Debian's faketime")


def ensure_services() -> None:
    if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode != 0:
        clusters = sorted(os.listdir("/etc/postgresql"))
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1], "main", "start"], check=True)
        wait_for("PostgreSQL", lambda: subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0, 30)
    if not listening(6379):
        subprocess.run(["redis-server", "--port", "6379", "--save", "", "--appendonly", "no", "--daemonize", "yes"],
                       check=True)
        wait_for("Redis", lambda: listening(6379), 30)
    for db in (REDIS_DB_BROKER, REDIS_DB_CACHE):
        subprocess.run(["redis-cli", "-n", str(db), "FLUSHDB"], check=True, capture_output=True)


def wait_for(what: str, check, seconds: float, every: float = 1.0):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise Failed(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(every)


class Stack:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL")},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "ARREARS_DATA_DIR": str(folder / "data"),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB_BROKER}",
            "CACHE_URL": f"redis://127.0.0.1:6379/{REDIS_DB_CACHE}",
            "ARREARS_SMS_BACKEND": "file",
            "NOTICES_FILE_DIR": str(folder / "outbox"),
            "ARREARS_PAYMENT_PROVIDERS": "sandbox",
            "ARREARS_PUBLIC_URL": self.base,
            "LOG_FORMAT": "json",
            # every process of the stack on one clock: real time moved to MORNING (see the module's docstring)
            "LD_PRELOAD": faketime_library(),
            "FAKETIME": f"{int((MORNING - datetime.now(SHANGHAI)).total_seconds()):+d}",
            "FAKETIME_DONT_RESET": "1",
        }

    # ---- processes

    def arrears(self, *args: str, timeout: float = 900) -> str:
        done = subprocess.run([str(BIN / "arrears"), *args], env=self.env, cwd=self.folder, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise Failed(f"arrears {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def django(self, code: str) -> str:
        """What `code` prints last, run by `arrears shell` in the stack's environment."""
        lines = self.arrears("shell", "--no-imports", "-c", code).strip().splitlines()
        return lines[-1] if lines else ""

    def start(self, name: str, *command: str, env: dict | None = None) -> None:
        log = self.folder / f"{name}.log"
        process = subprocess.Popen([str(c) for c in command], env={**self.env, **(env or {})}, cwd=self.folder,
                                   stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append((name, process, log))

    def stop(self) -> None:
        for _name, process, _log in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process, _log in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def logs(self) -> str:
        parts = []
        for name, _process, log in self.processes:
            text = log.read_text(errors="replace") if log.exists() else ""
            parts.append(f"---- {name} (last 3000 characters)\n{text[-3000:]}")
        return "\n".join(parts)

    def alive(self) -> None:
        for name, process, _log in self.processes:
            if process.poll() is not None:
                raise Failed(f"{name} exited with status {process.returncode}")

    # ---- HTTP

    def http(self, method: str, path: str, *, body=None, headers: dict | None = None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Accept": "application/json", **({"Content-Type": "application/json"} if body is not None else {}),
            **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def api(self, method: str, path: str, token: str, body=None, **headers):
        status, answer_headers, content = self.http(method, f"/api/v1{path}", body=body,
                                                    headers={"Authorization": f"Bearer {token}", **headers})
        return status, answer_headers, json.loads(content) if content else None


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)
    say(f"ok: {what}")


def run_smoke(stack: Stack) -> None:
    say(f"fresh database {DATABASE}, demo company of {UNITS} units")
    subprocess.run(["dropdb", *PG, "--if-exists", "--force", DATABASE], check=True)
    subprocess.run(["createdb", *PG, DATABASE], check=True)
    stack.arrears("migrate", "--no-input", "-v", "0")
    stack.arrears("demo-data", "--units", str(UNITS))
    stack.arrears("collectstatic", "--no-input", "-v", "0")
    started = datetime.fromisoformat(stack.django(
        "from django.utils import timezone; print(timezone.localtime().isoformat())"))
    say(f"the stack's clock reads {started:%Y-%m-%d %H:%M} in Shanghai")
    before = stack.django(
        "from arrears.collection.models import CollectionRun as R; r = R.objects.order_by('-finished_at').first(); "
        "print(r.finished_at.isoformat() if r and r.finished_at else '')")

    # beat fires the daily run at the next whole minute at least 40 s away (Asia/Shanghai)
    at = (started + timedelta(seconds=100)).replace(second=0, microsecond=0)
    stack.env["ARREARS_DAILY_RUN_AT"] = f"{at:%H:%M}"
    say(f"starting gunicorn on {stack.base}, a worker and beat (daily run at {at:%H:%M})")
    stack.start("web", BIN / "arrears", "serve", "--bind", f"127.0.0.1:{stack.port}", "--workers", "2")
    stack.start("worker", BIN / "celery", "-A", "config", "worker", "--concurrency", "2", "--loglevel", "INFO",
                "--hostname", "smoke@%h")
    stack.start("beat", BIN / "celery", "-A", "config", "beat", "--loglevel", "INFO",
                "--schedule", str(stack.folder / "beat-schedule"))
    wait_for("the web server", lambda: listening(stack.port), 60)

    # 1. the daily run, triggered by beat and run by the worker
    def run_finished():
        stack.alive()
        value = stack.django(
            "from arrears.collection.models import CollectionRun as R; r = R.objects.order_by('-finished_at').first(); "
            "print(r.finished_at.isoformat() if r and r.finished_at else '')")
        return value if value and value != before else None

    finished = wait_for("beat to trigger the daily run and the worker to finish it", run_finished, 420, every=5)
    check(datetime.fromisoformat(finished) >= at, f"beat triggered the daily run at {at:%H:%M}; it finished {finished}")
    worker_log = (stack.folder / "worker.log").read_text(errors="replace")
    check(all(f"arrears.collection.tasks.{name}" in worker_log for name in ("daily_run", "run_part", "finish_run")),
          "the worker, not the web, ran the daily run: its parts per community and the final step")

    # 2. the sender, every minute by beat, sends what is due through the file channel
    due_now = ("from django.db.models import Q; from django.utils import timezone; "
               "from arrears.collection.models import OutgoingMessage as M; now = timezone.now(); "
               "print(M.objects.filter(Q(not_before__isnull=True) | Q(not_before__lte=now), "
               "Q(next_try_at__isnull=True) | Q(next_try_at__lte=now), status='queued').count())")
    wait_for("the sender to send every message that is due", lambda: stack.django(due_now) == "0", 240, every=5)
    sent = int(stack.django("from arrears.collection.models import OutgoingMessage as M; "
                            "print(M.objects.filter(status__in=['sent', 'delivered']).count())"))
    check(sent > 0, f"the worker sent {sent} messages through the file channel")

    # 3. a payment through the REST API, sent twice with one Idempotency-Key
    token = stack.arrears("api-token", "admin", "--days", "1", "--name", "smoke").strip().splitlines()[-1]
    status, _headers, page = stack.api("GET", "/cases?limit=5", token)
    check(status == 200 and len(page["items"]) >= 2, f"GET /api/v1/cases lists open cases ({status})")
    case = page["items"][0]
    status, _headers, statement = stack.api("GET", f"/units/{case['unit_id']}/statement", token)
    check(status == 200, "GET the unit's statement")
    owed = statement["total"]
    key = str(uuid.uuid4())
    body = {"unit_id": case["unit_id"], "owner_id": case["owner_id"], "amount": owed, "method": "bank_transfer",
            "paid_on": f"{started:%Y-%m-%d}", "reference": f"SMOKE-{key[:8]}"}
    first = stack.api("POST", "/payments", token, body, **{"Idempotency-Key": key})
    again = stack.api("POST", "/payments", token, body, **{"Idempotency-Key": key})
    check(first[0] == 201 and again[0] == 201 and first[2] == again[2],
          f"POST /api/v1/payments twice with one key: one answer ({first[0]}, {again[0]})")
    check(again[1].get("Idempotent-Replayed") == "true", "the repeat was replayed, not taken again")
    status, _headers, paid = stack.api("GET", f"/payments?unit_id={case['unit_id']}&paid_from={body['paid_on']}", token)
    check([p["amount"] for p in paid["items"] if p["reference"].upper() == body["reference"].upper()] == [owed],
          f"the money arrived once: ¥{owed}")
    status, _headers, closed = stack.api("GET", f"/cases/{case['id']}", token)
    check(status == 200 and closed["status"] == "closed", f"the case closed ({closed and closed['status']})")

    # 4. a signed payment notification (sandbox HMAC) credits an order and closes its case
    other = page["items"][1]
    order_json = stack.django(
        "import json; from arrears.portal import payments; from arrears.portal.providers import get_provider; "
        "from arrears.ledger.models import Charge; from arrears.estate.models import Owner, Unit; "
        f"unit = Unit.objects.get(pk={other['unit_id']}); owner = Owner.objects.get(pk={other['owner_id']}); "
        "ids = list(Charge.objects.filter(unit=unit, owner=owner, settled_on__isnull=True).values_list('pk', flat=True)); "
        "order = payments.create_order(owner=owner, unit=unit, charge_ids=ids, provider_code='sandbox'); "
        "headers, body = get_provider('sandbox').notification_for(order, trade_no='SMOKE-T1'); "
        "print(json.dumps({'headers': headers, 'body': body.decode(), 'number': order.number}))")
    order = json.loads(order_json)
    forged = order["body"].replace('"SUCCESS"', '"SUCCESS" ')
    status, _h, _c = stack.http("POST", "/pay/notify/sandbox", raw=forged.encode(),
                                headers={**order["headers"], "Content-Type": "application/json"})
    check(status >= 400, f"a notification whose body does not match its signature is refused ({status})")
    status, _h, _c = stack.http("POST", "/pay/notify/sandbox", raw=order["body"].encode(),
                                headers={**order["headers"], "Content-Type": "application/json"})
    check(status == 200, f"the signed notification is accepted ({status})")
    status, _h, _c = stack.http("POST", "/pay/notify/sandbox", raw=order["body"].encode(),
                                headers={**order["headers"], "Content-Type": "application/json"})
    check(status == 200, "the same notification again is acknowledged")
    status, _headers, closed = stack.api("GET", f"/cases/{other['id']}", token)
    check(closed["status"] == "closed", f"the notified payment closed its case ({closed['status']})")
    credited = stack.django(
        "from arrears.ledger.models import Payment; "
        "print(Payment.objects.filter(reference__startswith='sandbox:SMOKE-T1').count())")
    check(credited == "1", f"the notification credited the ledger once ({credited} payment)")

    # 5. health
    status, _headers, content = stack.http("GET", "/healthz")
    check(status == 200, f"/healthz answers {status}: {content.decode()[:300]}")

    # 6. nothing sent twice: one file per sent message, each with its own key; one "sent" event a message
    files = [f for f in (stack.folder / "outbox").rglob("*.json") if f.is_file()]
    file_keys = [json.loads(f.read_text(encoding="utf-8"))["key"] for f in files]
    stored = json.loads(stack.django(
        "import json; from django.db.models import Count, Q; from arrears.collection.models import OutgoingMessage as M; "
        "sent = M.objects.filter(status__in=['sent', 'delivered']); "
        "twice = M.objects.annotate(n=Count('events', filter=Q(events__kind='sent'))).filter(n__gt=1).count(); "
        "print(json.dumps({'keys': sorted(sent.values_list('key', flat=True)), 'twice': twice}))"))
    check(sorted(file_keys) == stored["keys"], f"{len(files)} files, one for each of the {len(stored['keys'])} sent messages")
    check(stored["twice"] == 0, "no message was handed to the channel twice")
    stack.alive()


def main() -> int:
    if not (BIN / "arrears").exists():
        print("run `python3 dev.py install` first", file=sys.stderr)
        return 2
    ensure_services()
    folder = Path(tempfile.mkdtemp(prefix="arrears-smoke-"))
    stack = Stack(folder)
    started = time.monotonic()
    try:
        run_smoke(stack)
    except Failed as failure:
        say(f"FAILED: {failure}")
        print(stack.logs(), flush=True)
        return 1
    finally:
        stack.stop()
    say(f"passed in {time.monotonic() - started:.0f} s")
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
