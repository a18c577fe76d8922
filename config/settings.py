"""Settings: every knob comes from the environment, and a bad value fails loudly at start-up."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DATA_DIR = Path(env_str("ARREARS_DATA_DIR", str(Path.cwd() / "data"))).resolve()


def _secret_key() -> str:
    """Keep a generated key in the data folder so sessions survive restarts."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "arrears.core",
    "arrears.estate",
    "arrears.ledger",
    "arrears.collection",
    "arrears.notices",
    "arrears.portal",
    "arrears.legal",
    "arrears.insights",
    "arrears.staff",
    "arrears.api",
    "ninja",  # the API docs page's Swagger UI from the static files, never a CDN
    "arrears.demo",  # the top floor: stands on every app, nothing imports it
]

MIDDLEWARE = [
    "arrears.core.logs.RequestIdMiddleware",  # first: every line logged for the request carries its id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "arrears.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "arrears.api.audit.ApiAuditMiddleware",  # every /api/v1/ call: who, what, the answer
    "arrears.api.problems.ApiFallbackMiddleware",  # Django's own 404 and 405 under /api/v1/ as problems
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            "builtins": ["arrears.core.templatetags.money"],  # {{ amount|yuan }} on every page, one way
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'arrears.sqlite3'}"),
        conn_max_age=int(env_str("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Wait for a writer rather than failing at once: the import page and a batch may overlap.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
if DATABASES["default"]["ENGINE"].endswith("postgresql") and not env_bool("DATABASE_JIT", False):
    # JIT compiles the statement's correlated subqueries for seconds and gains nothing here
    # (bench/README.md: 2.9 s → 1.0 s at 10,000 units with it off).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "arrears" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "staff:home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock a username after repeated failed logins (brute force on staff logins), two ways
# (arrears/staff/lockout.py): AXES_FAILURE_LIMIT failures from one address lock that username and
# address for AXES_COOLOFF_HOURS; ARREARS_LOGIN_USERNAME_LIMIT failures from anywhere (each address
# counting at most AXES_FAILURE_LIMIT, so it takes several addresses) lock the username everywhere,
# until ARREARS_LOGIN_USERNAME_COOLOFF_MINUTES after the last failure.
AXES_FAILURE_LIMIT = int(env_str("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env_str("AXES_COOLOFF_HOURS", "1"))
ARREARS_LOGIN_USERNAME_LIMIT = int(env_str("ARREARS_LOGIN_USERNAME_LIMIT", str(3 * AXES_FAILURE_LIMIT)))
ARREARS_LOGIN_USERNAME_COOLOFF = timedelta(minutes=float(env_str("ARREARS_LOGIN_USERNAME_COOLOFF_MINUTES", "15")))
AXES_HANDLER = "arrears.staff.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # what a successful login clears: its own address's failures
AXES_CLIENT_IP_CALLABLE = "arrears.core.ratelimit.client_address"  # PORTAL_CLIENT_IP_HEADER behind a proxy
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "arrears.staff.views.locked_out"  # a Chinese page saying why and for how long

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "arrears.staff.errors.csrf_failure"  # "page expired, nothing saved", not Django's bare 403
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# HTTPS, one switch for a site served behind TLS (directly or by a proxy that sets X-Forwarded-Proto and
# overwrites any the client sent): redirect plain HTTP, HSTS for a year with subdomains, cookies only
# over HTTPS. Off by default: the embedded default and the demo serve plain HTTP on 127.0.0.1.
ARREARS_HTTPS = env_bool("ARREARS_HTTPS", False)
if ARREARS_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS preload binds the whole registered domain, every subdomain of it, into browsers for months and
# cannot be taken back quickly: the company's domain decides it, not this application. Opt in with
# ARREARS_HSTS_PRELOAD=true (and submit the domain at hstspreload.org); W021 only reminds of it.
SECURE_HSTS_PRELOAD = ARREARS_HTTPS and env_bool("ARREARS_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# LOG_FORMAT=json (production: one JSON object a line, with the request id) or text (the default).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "arrears.core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "arrears.core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"],
                             "formatter": "json" if env_str("LOG_FORMAT", "text") == "json" else "text"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# ---- arrears serve (gunicorn): where it listens, and whose X-Forwarded-* headers it trusts (the proxy).
ARREARS_BIND = env_str("ARREARS_BIND", "127.0.0.1:8000")
ARREARS_FORWARDED_ALLOW_IPS = env_str("ARREARS_FORWARDED_ALLOW_IPS", "127.0.0.1")

# ---- Health (/healthz): 503 when the last daily run finished more than this many hours ago, or a
# message due to be sent has waited more than this many minutes (the sender is not running).
ARREARS_HEALTH_RUN_HOURS = int(env_str("ARREARS_HEALTH_RUN_HOURS", "26"))
ARREARS_HEALTH_OUTBOX_MINUTES = int(env_str("ARREARS_HEALTH_OUTBOX_MINUTES", "15"))

# ---- REST API (/api/v1/): tokens live ARREARS_API_TOKEN_DAYS days unless asked otherwise (at most
# 366); each user's tokens together may make ARREARS_API_RATE_LIMIT calls a minute; an address that sends
# ARREARS_API_AUTH_FAILURES bad tokens in a minute is refused for the rest of it.
ARREARS_API_TOKEN_DAYS = int(env_str("ARREARS_API_TOKEN_DAYS", "90"))
ARREARS_API_RATE_LIMIT = (int(env_str("ARREARS_API_RATE_LIMIT", "120")), 60)
ARREARS_API_AUTH_FAILURES = (int(env_str("ARREARS_API_AUTH_FAILURES", "20")), 60)

# ---- Excel import: limits, and where the web import's background job runs ---------------------
# The upload is refused above MAX_UPLOAD_MB; its zip members' declared sizes above MAX_UNPACKED_MB
# in all, or a member compressed more than MAX_RATIO times (a zip bomb), before anything is unpacked;
# a file with more than MAX_ROWS data rows is refused while it is read.
ARREARS_IMPORT_MAX_UPLOAD_BYTES = int(env_str("ARREARS_IMPORT_MAX_UPLOAD_MB", "20")) * 1024 * 1024
ARREARS_IMPORT_MAX_UNPACKED_BYTES = int(env_str("ARREARS_IMPORT_MAX_UNPACKED_MB", "200")) * 1024 * 1024
ARREARS_IMPORT_MAX_RATIO = int(env_str("ARREARS_IMPORT_MAX_RATIO", "100"))
ARREARS_IMPORT_MAX_ROWS = int(env_str("ARREARS_IMPORT_MAX_ROWS", "200000"))
# celery (a worker; needs CELERY_BROKER_URL and MEDIA_ROOT shared with the web), thread (in the web
# process, after the commit: the embedded default) or inline (inside the request: tests).
ARREARS_IMPORT_RUNNER = env_str("ARREARS_IMPORT_RUNNER", "celery" if env_str("CELERY_BROKER_URL") else "thread")

from celery.schedules import crontab  # noqa: E402

# Celery. Without CELERY_BROKER_URL (the embedded default) tasks run in-process, eagerly.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# The daily run is a chord (collection/tasks.py): its last step waits on a result backend. Redis
# serves as both; the rpc:// backend cannot join a chord, so another broker needs this set.
CELERY_RESULT_BACKEND = env_str(
    "CELERY_RESULT_BACKEND", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "")
if CELERY_BROKER_URL and not CELERY_RESULT_BACKEND:
    raise ImproperlyConfigured("CELERY_RESULT_BACKEND must be set when the broker is not Redis (the daily run's chord)")
CELERY_RESULT_EXTENDED = True  # a part's result names the worker that ran it
# A part runs minutes and is acknowledged when done: a worker takes one at a time, so idle
# workers on other machines get the rest instead of waiting behind one worker's prefetched parts.
CELERY_WORKER_PREFETCH_MULTIPLIER = int(env_str("CELERY_WORKER_PREFETCH_MULTIPLIER", "1"))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE


def _clock(text: str) -> tuple[int, int]:
    try:
        hour, minute = (int(part) for part in text.split(":"))
    except ValueError:
        hour = minute = -1
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ImproperlyConfigured(f"ARREARS_DAILY_RUN_AT must be HH:MM (Asia/Shanghai), e.g. 06:00, not {text!r}")
    return hour, minute


DAILY_RUN_AT = _clock(env_str("ARREARS_DAILY_RUN_AT", "06:00"))
CELERY_BEAT_SCHEDULE = {
    "dispatch-outbox": {
        "task": "arrears.notices.tasks.dispatch_outbox",
        "schedule": 60.0,  # every minute: messages wait for their contact window, retries for their backoff
        "options": {"expires": 55},
    },
    "close-expired-orders": {
        "task": "arrears.portal.tasks.close_expired_orders",
        "schedule": 600.0,
        "options": {"expires": 590},
    },
    "daily-collection-run": {
        "task": "arrears.collection.tasks.daily_run",
        # Asia/Shanghai, before the working day starts; ARREARS_DAILY_RUN_AT=HH:MM moves it
        "schedule": crontab(hour=DAILY_RUN_AT[0], minute=DAILY_RUN_AT[1]),
        "options": {"expires": 60 * 60 * 6},
    },
    "monthly-risk-retrain": {
        "task": "arrears.insights.tasks.retrain_risk_models",
        # the 2nd at 03:00: last month's bills have settled into the history, before the day's run
        "schedule": crontab(day_of_month=2, hour=3, minute=0),
        "options": {"expires": 60 * 60 * 2},
    },
}

# ---- Notices: channel backends (SMS, WeChat, email) -------------------------------------------
# ARREARS_SMS_BACKEND: console (default, prints), file (writes to NOTICES_FILE_DIR), aliyun, tencent.
# The *_SIGN_NAME is the signature (签名) for messages that carry none. Email uses Django's EMAIL_*.
NOTICES_FILE_DIR = env_str("NOTICES_FILE_DIR", str(DATA_DIR / "outbox"))


def _required(*names: str) -> None:
    missing = [name for name in names if not env_str(name)]
    if missing:
        raise ImproperlyConfigured(f"ARREARS_SMS_BACKEND needs {', '.join(missing)}")


def _sms_channel(backend: str) -> dict:
    """The SMS channel's backend and options, chosen by ARREARS_SMS_BACKEND."""
    if backend == "console":
        return {"BACKEND": "arrears.notices.channels.console.ConsoleBackend"}
    if backend == "file":
        return {"BACKEND": "arrears.notices.channels.file.FileBackend"}
    if backend == "aliyun":
        _required("ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET")
        return {
            "BACKEND": "arrears.notices.channels.aliyun.AliyunSmsBackend",
            "access_key_id": env_str("ALIYUN_SMS_ACCESS_KEY_ID"),
            "access_key_secret": env_str("ALIYUN_SMS_ACCESS_KEY_SECRET"),
            "endpoint": env_str("ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com"),
            "sign_name": env_str("ALIYUN_SMS_SIGN_NAME"),
        }
    if backend == "tencent":
        _required("TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID")
        return {
            "BACKEND": "arrears.notices.channels.tencent.TencentSmsBackend",
            "secret_id": env_str("TENCENT_SMS_SECRET_ID"),
            "secret_key": env_str("TENCENT_SMS_SECRET_KEY"),
            "sdk_app_id": env_str("TENCENT_SMS_SDK_APP_ID"),
            "sign_name": env_str("TENCENT_SMS_SIGN_NAME"),
            "endpoint": env_str("TENCENT_SMS_ENDPOINT", "sms.tencentcloudapi.com"),
        }
    raise ImproperlyConfigured(
        f"ARREARS_SMS_BACKEND must be console, file, aliyun or tencent, not {backend!r}"
    )


def _wechat(backend: str) -> dict:
    """The WeChat Official Account (公众号) by ARREARS_WECHAT_BACKEND: {} with the console (nothing
    bound, nothing sent to WeChat), its appid, secret and API base with the official API."""
    if backend == "console":
        return {}
    if backend == "official":
        missing = [name for name in ("ARREARS_WECHAT_APPID", "ARREARS_WECHAT_SECRET") if not env_str(name)]
        if missing:
            raise ImproperlyConfigured(f"ARREARS_WECHAT_BACKEND=official needs {', '.join(missing)}")
        return {
            "appid": env_str("ARREARS_WECHAT_APPID"),
            "secret": env_str("ARREARS_WECHAT_SECRET"),
            "api_base": env_str("ARREARS_WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/"),
        }
    raise ImproperlyConfigured(f"ARREARS_WECHAT_BACKEND must be console or official, not {backend!r}")


# ARREARS_WECHAT_BACKEND: console (default, prints) or official (template messages through WeChat's API,
# and owners who open their statement link in WeChat are asked once for their openid: snsapi_base).
# With it, the daily run sends a ladder's SMS by WeChat to owners with a bound openid, and by SMS when
# WeChat refuses. The WeChat template ids are set per notice template (provider code "wechat").
ARREARS_WECHAT = _wechat(env_str("ARREARS_WECHAT_BACKEND", "console") or "console")
NOTICES_CHANNELS = {
    "sms": _sms_channel(env_str("ARREARS_SMS_BACKEND", "console") or "console"),
    "wechat": (
        {"BACKEND": "arrears.notices.channels.wechat.WeChatTemplateBackend", **ARREARS_WECHAT} if ARREARS_WECHAT
        else {"BACKEND": "arrears.notices.channels.console.ConsoleBackend"}
    ),
    "email": {"BACKEND": "arrears.notices.channels.email.EmailBackend"},
}
# The outbox: a claimed message whose worker died is taken up again after the lease, which must
# outlast the longest provider call (system check notices.E001); provider errors are retried
# with exponential backoff (1, 2, 4 … minutes) up to NOTICES_MAX_ATTEMPTS.
NOTICES_LEASE_SECONDS = int(env_str("NOTICES_LEASE_SECONDS", "300"))
NOTICES_MAX_ATTEMPTS = int(env_str("NOTICES_MAX_ATTEMPTS", "5"))
NOTICES_BACKOFF_SECONDS = int(env_str("NOTICES_BACKOFF_SECONDS", "60"))
NOTICES_SMS_SIGN_NAME = env_str("NOTICES_SMS_SIGN_NAME")  # 【签名】; the company's name when empty
# Delivery receipts are accepted at /notices/receipts/<provider>/<token>/ only with this token.
NOTICES_RECEIPT_TOKEN = env_str("NOTICES_RECEIPT_TOKEN")
# The public address owners open from SMS and letters (statement and payment links).
ARREARS_PUBLIC_URL = env_str("ARREARS_PUBLIC_URL", "http://127.0.0.1:8000")

# The daily run works through the company a slice of whole communities at a time, at most this many
# units each, so its memory is that of one slice however large the company (collection/run.py chunks).
ARREARS_RUN_CHUNK_UNITS = int(env_str("ARREARS_RUN_CHUNK_UNITS", "100000"))

# Service tickets: days from opening to the due date, by kind (报修 / 投诉 / 整改); a staff member may
# set another date on the ticket. ARREARS_TICKET_DUE_DAYS="repair=3,complaint=7,rectification=30".
ARREARS_TICKET_DUE_DAYS = {
    kind: int(days)
    for kind, days in (item.split("=", 1) for item in env_list("ARREARS_TICKET_DUE_DAYS", "repair=3,complaint=7,rectification=30"))
}
# Bank details printed on letters for transfers.
ARREARS_BANK_ACCOUNT = {
    "bank": env_str("BANK_NAME"), "account": env_str("BANK_ACCOUNT"), "name": env_str("BANK_ACCOUNT_NAME"),
}
# ---- end notices channels ----------------------------------------------------------------------

# ---- Letters (PDF) ------------------------------------------------------------------------------
# A CJK font for 催费函 and 律师函 PDFs: a .ttc/.otf/.ttf file and, in a collection, the face
# (unset: the collection's Simplified Chinese face). Unset font: the first existing entry of
# ARREARS_PDF_FONT_SEARCH (Debian and Ubuntu: apt-get install fonts-noto-cjk). Never downloaded.
ARREARS_PDF_FONT = env_str("ARREARS_PDF_FONT")
ARREARS_PDF_FONT_INDEX = int(env_str("ARREARS_PDF_FONT_INDEX")) if env_str("ARREARS_PDF_FONT_INDEX") else None
ARREARS_PDF_FONT_BOLD = env_str("ARREARS_PDF_FONT_BOLD")  # unset: the search entry's bold, or the regular face
ARREARS_PDF_FONT_BOLD_INDEX = (
    int(env_str("ARREARS_PDF_FONT_BOLD_INDEX")) if env_str("ARREARS_PDF_FONT_BOLD_INDEX") else None
)
ARREARS_PDF_FONT_SEARCH = [  # (regular, bold): serif first, the face of formal Chinese letters (宋体)
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
    ("/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc", "/usr/share/fonts/noto-cjk/NotoSerifCJK-Bold.ttc"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", ""),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", ""),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", ""),
    ("/System/Library/Fonts/Supplemental/Songti.ttc", "/System/Library/Fonts/Supplemental/Songti.ttc"),
    ("/System/Library/Fonts/PingFang.ttc", "/System/Library/Fonts/PingFang.ttc"),
    ("/System/Library/Fonts/STHeiti Light.ttc", "/System/Library/Fonts/STHeiti Medium.ttc"),
    ("C:/Windows/Fonts/simsun.ttc", "C:/Windows/Fonts/simhei.ttf"),
    ("C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/msyhbd.ttc"),
]

# The law firm that signs 律师函 (a letter is refused without one).
ARREARS_LAW_FIRM = {
    "name": env_str("LAW_FIRM_NAME"),
    "address": env_str("LAW_FIRM_ADDRESS"),
    "phone": env_str("LAW_FIRM_PHONE"),
    "lawyer": env_str("LAW_FIRM_LAWYER"),
    "licence_no": env_str("LAW_FIRM_LICENCE"),
}
# ---- end letters --------------------------------------------------------------------------------

# ---- Cache (rate limits) --------------------------------------------------------------------------
# One process: the default in-memory cache. Several processes must share counters: CACHE_URL=redis://…
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("CACHE_URL")}
        if env_str("CACHE_URL") else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# ---- Owner portal and online payment ----------------------------------------------------------------
# A statement link is valid for PORTAL_LINK_DAYS from when it was made (sent in an SMS or printed).
PORTAL_LINK_DAYS = int(env_str("PORTAL_LINK_DAYS", "30"))
# An unpaid order closes after PORTAL_ORDER_MINUTES (a late notification still credits it).
PORTAL_ORDER_MINUTES = int(env_str("PORTAL_ORDER_MINUTES", "30"))
# Requests per client address and window (seconds): statement pages, creating orders, notifications.
PORTAL_RATE_LIMITS = {
    "page": (int(env_str("PORTAL_RATE_PAGE", "60")), 60),
    "pay": (int(env_str("PORTAL_RATE_PAY", "10")), 600),
    "notify": (int(env_str("PORTAL_RATE_NOTIFY", "300")), 60),
}
# The header that carries the client's address behind a reverse proxy (e.g. HTTP_X_REAL_IP); unset:
# REMOTE_ADDR. Only set it when the proxy overwrites the header, or anyone can choose their address.
PORTAL_CLIENT_IP_HEADER = env_str("PORTAL_CLIENT_IP_HEADER")


def _payment_provider(code: str) -> dict:
    """A provider's backend and keys; a listed provider with a missing key stops the start-up."""
    if code == "sandbox":
        return {"BACKEND": "arrears.portal.providers.sandbox.SandboxProvider"}
    if code == "wechat":
        return _wechat_provider()
    if code == "alipay":
        return _alipay_provider()
    raise ImproperlyConfigured(f"ARREARS_PAYMENT_PROVIDERS: unknown provider {code!r} (sandbox, wechat, alipay)")


def _provider_keys(provider: str, *names: str) -> None:
    missing = [name for name in names if not env_str(name)]
    if missing:
        raise ImproperlyConfigured(f"payment provider {provider} needs {', '.join(missing)}")


def _wechat_provider() -> dict:
    _provider_keys("wechat", "WECHATPAY_MCHID", "WECHATPAY_APPID", "WECHATPAY_PRIVATE_KEY_FILE", "WECHATPAY_CERT_SERIAL_NO",
                   "WECHATPAY_APIV3_KEY", "WECHATPAY_PUBLIC_KEY_FILE", "WECHATPAY_PUBLIC_KEY_ID")
    return {
        "BACKEND": "arrears.portal.providers.wechat.WeChatPayProvider",
        "mchid": env_str("WECHATPAY_MCHID"),
        "appid": env_str("WECHATPAY_APPID"),
        "private_key_file": env_str("WECHATPAY_PRIVATE_KEY_FILE"),
        "cert_serial_no": env_str("WECHATPAY_CERT_SERIAL_NO"),
        "apiv3_key": env_str("WECHATPAY_APIV3_KEY"),
        "public_key_file": env_str("WECHATPAY_PUBLIC_KEY_FILE"),
        "public_key_id": env_str("WECHATPAY_PUBLIC_KEY_ID"),
        "gateway": env_str("WECHATPAY_GATEWAY", "https://api.mch.weixin.qq.com"),
    }


def _alipay_provider() -> dict:
    _provider_keys("alipay", "ALIPAY_APPID", "ALIPAY_APP_PRIVATE_KEY_FILE", "ALIPAY_PUBLIC_KEY_FILE")
    return {
        "BACKEND": "arrears.portal.providers.alipay.AlipayProvider",
        "appid": env_str("ALIPAY_APPID"),
        "app_private_key_file": env_str("ALIPAY_APP_PRIVATE_KEY_FILE"),
        "alipay_public_key_file": env_str("ALIPAY_PUBLIC_KEY_FILE"),
        "gateway": env_str("ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do"),
    }


# The providers offered to owners, in this order: sandbox, wechat, alipay. The sandbox credits the ledger
# without moving money: it is the default only with DEBUG on; in production no provider is offered until
# one is configured (the owner's page then says how to pay at the office or by transfer), and naming the
# sandbox there fails `check --deploy` (arrears.E002).
PORTAL_PAYMENT_PROVIDERS = {
    code: _payment_provider(code) for code in env_list("ARREARS_PAYMENT_PROVIDERS", "sandbox" if DEBUG else "")
}
# ---- end portal -------------------------------------------------------------------------------------
