"""Stages of a long run, reported to whoever shows progress (a terminal, Excel's status bar)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

Reporter = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass
class Stages:
    """Announces each stage and keeps its wall time, for the summary and the benchmark."""

    report: Reporter = _silent
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str, label: str) -> Iterator[None]:
        self.report(label)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
