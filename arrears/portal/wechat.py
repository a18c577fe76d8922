"""Binding an owner's WeChat openid from the statement link (网页授权, snsapi_base: no prompt).

An owner who opens their link inside WeChat, with the official account configured and no openid
bound, is sent once to WeChat's authorize page; WeChat sends them back with a `code`, which we
exchange for their openid and keep as the owner's own WeChat contact. From then on the daily run
reminds them by WeChat first (collection/run.py).

What keeps a binding honest:
- `state` is an HMAC over the link's token, a nonce and the time: a state made for one link does
  not bind through another, and it expires after STATE_SECONDS;
- the nonce is also kept in the browser's session, so a callback URL carried to another browser
  (or planted in the owner's: login CSRF) binds nothing, and it is used once (the cache);
- an owner keeps the first openid bound; an openid bound to an owner of one community is not
  bound to an owner of another, nor to an owner outside that owner's household (the owners of one
  of their units today): shared phones stay within a household;
- the audit keeps a keyed digest of the openid, never the openid or its plain hash;
- anything failing shows the statement as it is: never an error page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from arrears.core.models import record
from arrears.estate.models import Contact, ContactKind, ContactRelation, Owner, Ownership

logger = logging.getLogger("arrears.portal.wechat")

AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
STATE_SECONDS = 600  # from the redirect to WeChat to its callback
SESSION_KEY = "wechat_oauth"  # the nonce of the authorisation this browser started, and the links it tried
STATE_SALT = "arrears.portal.wechat.state"
OPENID_SALT = "arrears.portal.wechat.openid"
TIMEOUT = 10.0


def configured() -> bool:
    return bool(getattr(settings, "ARREARS_WECHAT", None))


def in_wechat(user_agent: str) -> bool:
    return "MicroMessenger" in user_agent


def _link_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]


def _mac(token: str, nonce: str, issued: str) -> str:
    return salted_hmac(STATE_SALT, f"{token}|{nonce}|{issued}", algorithm="sha256").hexdigest()[:32]


def make_state(token: str, nonce: str, *, now: float | None = None) -> str:
    """32 hex of nonce, 10 digits of time, 32 hex of MAC: WeChat takes [a-zA-Z0-9] up to 128 bytes."""
    issued = f"{int(now if now is not None else time.time()):010d}"
    return f"{nonce}{issued}{_mac(token, nonce, issued)}"


def read_state(state: str, token: str, *, now: float | None = None) -> str | None:
    """The state's nonce if it was made for this link and has not expired, else None."""
    if len(state) != 74 or not state.isalnum() or not state.isascii():
        return None
    nonce, issued, mac = state[:32], state[32:42], state[42:]
    if not issued.isdigit() or not hmac.compare_digest(mac, _mac(token, nonce, issued)):
        return None
    age = (now if now is not None else time.time()) - int(issued)
    if not 0 <= age <= STATE_SECONDS:
        return None
    return nonce


def should_authorize(*, owner: Owner, user_agent: str, session, token: str) -> bool:
    """Inside WeChat, with the account configured, an owner with no openid, not tried in this session."""
    if not (configured() and in_wechat(user_agent)):
        return False
    if _link_digest(token) in (session.get(SESSION_KEY) or {}).get("tried", []):
        return False  # asked once already: a refusal or a failed exchange must not loop
    return not Contact.objects.filter(owner=owner, kind=ContactKind.WECHAT, relation=ContactRelation.SELF).exists()


def authorize_url(*, token: str, callback_url: str, session) -> str:
    """WeChat's authorize page for this link; remembers the nonce and that this link was tried."""
    nonce = secrets.token_hex(16)
    data = session.get(SESSION_KEY) or {}
    tried = [*data.get("tried", [])[-9:], _link_digest(token)]
    session[SESSION_KEY] = {"nonce": nonce, "link": _link_digest(token), "tried": tried}
    query = urllib.parse.urlencode({
        "appid": settings.ARREARS_WECHAT["appid"], "redirect_uri": callback_url, "response_type": "code",
        "scope": "snsapi_base", "state": make_state(token, nonce),
    })
    return f"{AUTHORIZE_URL}?{query}#wechat_redirect"


@dataclass(frozen=True)
class Outcome:
    bound: bool
    reason: str  # "bound", "already", "state", "exchange", "taken", "not_owner", "no_code", "error"


def _exchange(code: str) -> str | None:
    """The openid WeChat gives for this code, or None (a refused, used or expired code, WeChat down)."""
    wechat = settings.ARREARS_WECHAT
    query = urllib.parse.urlencode({
        "appid": wechat["appid"], "secret": wechat["secret"], "code": code, "grant_type": "authorization_code",
    })
    url = f"{wechat.get('api_base') or 'https://api.weixin.qq.com'}/sns/oauth2/access_token?{query}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 - https by setting
            answer = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError) as exc:
        logger.warning("wechat oauth exchange failed: %r", exc)
        return None
    if not isinstance(answer, dict) or answer.get("errcode"):
        logger.warning("wechat oauth exchange refused: %s", answer.get("errcode") if isinstance(answer, dict) else "?")
        return None
    openid = answer.get("openid")
    if not isinstance(openid, str) or not openid or len(openid) > 128 or not openid.isprintable():
        return None
    return openid


def _lock_openid(openid: str) -> None:
    """Serialise bindings of one openid (PostgreSQL); SQLite's single writer already does."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(openid.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def openid_digest(openid: str) -> str:
    """What the audit keeps of an openid: keyed by SECRET_KEY, so holding an openid does not find it in the log."""
    return salted_hmac(OPENID_SALT, openid, algorithm="sha256").hexdigest()[:16]


def _household(owner: Owner) -> set[int]:
    """The owners who own one of this owner's units today (co-owners share a phone, a household's WeChat)."""
    today = timezone.localdate()
    current = Q(start__lte=today) & (Q(end__isnull=True) | Q(end__gte=today))
    units = Ownership.objects.filter(current, owner=owner).values("unit_id")
    return {owner.pk, *Ownership.objects.filter(current, unit_id__in=units).values_list("owner_id", flat=True)}


def bind_openid(*, owner: Owner, openid: str, unit_id: int) -> Outcome:
    """Keep `openid` as the owner's own WeChat contact, once; audited either way."""
    digest = openid_digest(openid)  # the audit names no personal data
    with transaction.atomic():
        _lock_openid(openid)
        Owner.objects.select_for_update().filter(pk=owner.pk).first()  # two callbacks at once: one binds
        mine = Contact.objects.filter(owner=owner, kind=ContactKind.WECHAT, relation=ContactRelation.SELF)
        if mine.exists():
            if not mine.filter(value=openid).exists():  # another person claims the owner's link: on record
                record(actor=None, action="portal.wechat_bind_refused", community_id=owner.community_id,
                       owner=owner.pk, unit=unit_id, openid=digest,
                       reason="业主已绑定另一个微信 / the owner already has another WeChat bound")
            return Outcome(False, "already")
        elsewhere = Contact.objects.filter(kind=ContactKind.WECHAT, value=openid).exclude(
            community_id=owner.community_id).exists()
        if elsewhere:
            record(actor=None, action="portal.wechat_bind_refused", community_id=owner.community_id, owner=owner.pk,
                   unit=unit_id, openid=digest, reason="该微信已绑定其他小区的业主 / bound in another community")
            return Outcome(False, "taken")
        # A WeChat known as someone's relative, tenant or agent is known not to be an owner: a link it opens
        # (the letter came to the flat) binds nothing, and the refusal is on record.
        if Contact.objects.filter(kind=ContactKind.WECHAT, value=openid).exclude(relation=ContactRelation.SELF).exists():
            record(actor=None, action="portal.wechat_bind_refused", community_id=owner.community_id, owner=owner.pk,
                   unit=unit_id, openid=digest,
                   reason="该微信已登记为业主的亲属、租户或其他联系人 / registered as a relative's, tenant's or other contact")
            return Outcome(False, "not_owner")
        # A neighbour holding the owner's link (a letter at the door, a forwarded message) must not become
        # the owner's WeChat: an openid known for another owner binds only within that owner's household.
        others = set(Contact.objects.filter(kind=ContactKind.WECHAT, value=openid).exclude(owner=owner)
                     .values_list("owner_id", flat=True))
        if others - _household(owner):
            record(actor=None, action="portal.wechat_bind_refused", community_id=owner.community_id, owner=owner.pk,
                   unit=unit_id, openid=digest, reason="该微信已绑定另一户的业主 / bound to an owner of another household")
            return Outcome(False, "taken")
        try:
            with transaction.atomic():
                contact = Contact.objects.create(community_id=owner.community_id, owner=owner, kind=ContactKind.WECHAT,
                                                 value=openid, relation=ContactRelation.SELF)
        except IntegrityError:  # the same openid as a non-self contact of this owner
            return Outcome(False, "already")
        record(actor=None, action="portal.wechat_bound", community_id=owner.community_id, owner=owner.pk,
               unit=unit_id, contact=contact.pk, openid=digest)
    return Outcome(True, "bound")


def complete(*, owner: Owner, unit_id: int, token: str, code: str, state: str, session) -> Outcome:
    """The callback: check the state against this link and this browser, use it once, exchange, bind."""
    data = session.get(SESSION_KEY) or {}
    nonce = read_state(state, token)
    if nonce is None or not hmac.compare_digest(str(data.get("nonce", "")), nonce) or data.get("link") != _link_digest(token):
        return Outcome(False, "state")
    session[SESSION_KEY] = {**data, "nonce": ""}
    if not cache.add(f"arrears:wechat:state:{nonce}", 1, timeout=STATE_SECONDS + 60):
        return Outcome(False, "state")  # replayed
    if not code or len(code) > 256:
        return Outcome(False, "no_code")  # the owner declined, or a mangled callback
    openid = _exchange(code)
    if openid is None:
        return Outcome(False, "exchange")
    try:
        return bind_openid(owner=owner, openid=openid, unit_id=unit_id)
    except DatabaseError as exc:  # SQLite busy under a concurrent writer: the owner still sees the statement
        logger.warning("wechat binding not saved: %r", exc)
        return Outcome(False, "error")
