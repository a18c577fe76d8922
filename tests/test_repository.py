"""What must never be shipped inside the package."""

from pathlib import Path

import arrears


def test_the_package_holds_no_secret_key():
    # A key in the repository signs sessions, owner links and sandbox notifications for anyone who reads it.
    assert list(Path(arrears.__file__).parent.rglob("secret_key")) == []
