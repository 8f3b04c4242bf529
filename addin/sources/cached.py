"""A ledger read once per version of its source, for the worksheet functions: Excel asks
the same source again and again; a file source is read again when it changes."""

from __future__ import annotations

import os
from functools import lru_cache

from addin.config import load_config
from addin.domain.model import Ledger
from addin.locations import Location
from addin.sources import read_ledger


def load_ledger(source: Location, config_path: str = "") -> Ledger:
    return _cached(source, config_path, _version(source))


def _version(source: Location) -> float:
    """The newest modification time of a file source; a database is read once a session."""
    if source.is_url:
        return 0.0
    path = source.given
    try:
        if os.path.isdir(path):
            return max((os.path.getmtime(os.path.join(path, n)) for n in os.listdir(path)),
                       default=0.0)
        return os.path.getmtime(path)
    except OSError:
        return -1.0


@lru_cache(maxsize=8)
def _cached(source: Location, config_path: str, version: float) -> Ledger:
    return read_ledger(source, load_config(config_path or None))
