import pytest
from django.core.cache import cache

from tests.newborns.satusehat_server import Server, configure


@pytest.fixture
def satusehat(settings):
    """A SATUSEHAT-shaped server on 127.0.0.1, with the settings pointing at it; yields what it received."""
    cache.clear()
    with Server() as server:
        configure(settings, server.url)
        yield server.state
    cache.clear()
