import socket

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def world(db):
    """The REST API's company (tests/api/rest.py), built at its frozen time, with the rate-limit counts cleared."""
    import time_machine
    from django.core.cache import cache

    from tests.api import rest

    cache.clear()
    with time_machine.travel(rest.NOW, tick=False):
        yield rest.build()
