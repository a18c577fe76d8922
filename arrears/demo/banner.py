"""What the demo prints when it comes up: the address it serves on and the logins to try."""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext

from arrears.core import roles
from arrears.demo.staff import DEMO_PASSWORD, DemoLogin, full_name


def public_url(addrport: str) -> str:
    """The address a browser on this machine opens for runserver's `addrport` ("8708", "0.0.0.0:8708", "[::1]:8708")."""
    host, _, port = addrport.rpartition(":")
    if not host:
        host = "127.0.0.1"
    if host in ("0.0.0.0", "[::]", "0"):  # every interface: this machine reaches it on loopback
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def width(text: str) -> int:
    """Columns a terminal gives `text`: two for each wide (CJK) character."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def login_table(logins: list[DemoLogin]) -> list[str]:
    """The logins as a table in the active language: role, username, password, name, what to try first."""
    header = (gettext("角色"), gettext("账号"), gettext("密码"), gettext("姓名"), gettext("先试试"))
    rows = [(gettext(roles.ROLE_LABELS[login.role]), login.username, DEMO_PASSWORD, full_name(login), str(login.try_first))
            for login in logins]
    last = len(header) - 1  # the last column is not padded
    columns = [max(width(row[index]) for row in [header, *rows]) for index in range(last)]
    return ["  " + "  ".join(pad(cell, columns[index]) if index < last else cell for index, cell in enumerate(row)).rstrip()
            for row in [header, *rows]]
