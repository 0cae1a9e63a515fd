"""One policy pack process for the whole session: it is a server, started once like the engine starts it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pack_client import Pack, running_pack


@pytest.fixture(scope="session")
def pack() -> Iterator[Pack]:
    with running_pack() as started:
        yield started
