"""Any sequence of extract, copy, move, validate and commit (some killed at a random step of
the protocol, as a SIGKILL would: no clean-up runs) over random small ledgers: no item is ever
exported twice, and once a person extracts and commits what is left, every item that should
be exported is exported exactly once."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin import api
from addin.domain.actions import Action
from addin.domain.problems import ReliquatError
from addin.domain.rules import select
from tests.builders import (
    AS_OF,
    LONG_OVERDUE,
    active,
    item,
    ledger,
    rules,
    terminated,
    write_csv_ledger,
)
from tests.support.exports import exported_items, leftovers

STEPS = ("claimed", "written", "revealed batch_*.json", "revealed rebill_*",
         "revealed postings_*", "revealed batch_*.xlsx", "exported", "done")


@st.composite
def ledgers(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    customers = draw(st.integers(2, 5))
    subscriptions, items = [], []
    for c in range(customers):
        for s in range(draw(st.integers(1, 3))):
            sub = f"S{c}{s}"
            ended = draw(st.booleans())
            subscriptions.append(terminated(sub, f"C{c}") if ended else active(sub, f"C{c}"))
            for i in range(draw(st.integers(1, 3))):
                cents = draw(st.integers(-300, 900))
                items.append(item(f"I{c}{s}{i}", sub, f"{cents / 100:.2f}", customer=f"C{c}",
                                  due=LONG_OVERDUE if draw(st.booleans()) else
                                  AS_OF + dt.timedelta(days=5),
                                  blocked=draw(st.integers(0, 5)) == 0))
    return items, subscriptions


operations = st.lists(st.tuples(
    st.sampled_from(["extract", "copy", "move", "validate", "commit", "commit", "commit"]),
    st.integers(0, 3),  # which workbook
    st.sampled_from(["X", "Y"]),  # which export folder
    st.sampled_from((None, None, *STEPS)),  # the step a commit is killed at
), min_size=2, max_size=8)


@contextmanager
def installation() -> Iterator[Path]:
    """A folder of its own and a user data folder of its own (hence a register)."""
    with tempfile.TemporaryDirectory() as folder:
        previous = os.environ.get("XDG_DATA_HOME")
        os.environ["XDG_DATA_HOME"] = str(Path(folder) / "data")
        try:
            yield Path(folder)
        finally:
            if previous is None:
                del os.environ["XDG_DATA_HOME"]
            else:
                os.environ["XDG_DATA_HOME"] = previous


def killed_commit(review: Path, out: Path, step: str | None) -> None:
    """A commit in a child process that dies at ``step`` without any clean-up, as SIGKILL."""
    import fnmatch

    pid = os.fork()
    if pid == 0:  # the child: never returns into the test
        try:
            from addin.commit import protocol

            def die(name: str) -> None:
                if step and fnmatch.fnmatch(name, step):
                    os._exit(137)

            protocol.checkpoint = die
            api.commit(review, out, accept_proposals=True)
        except BaseException:  # a refusal: the child ends like the command would
            os._exit(1)
        os._exit(0)
    os.waitpid(pid, 0)


def run(operation: tuple[str, int, str, str | None], folder: Path, source: Path) -> None:
    kind, number, out_name, step = operation
    review = folder / f"w{number}" / "review.xlsx"
    others = [p for p in folder.glob("w*/review.xlsx") if p != review]
    out = folder / out_name
    try:
        if kind == "extract":
            api.extract(source, review, as_of=AS_OF, force=True)
        elif kind in ("copy", "move") and review.exists():
            target = folder / f"w{(number + 1) % 4}" / "review.xlsx"
            target.parent.mkdir(exist_ok=True)
            (shutil.copyfile if kind == "copy" else shutil.move)(review, target)
        elif kind == "validate" and review.exists():
            api.commit(review, out, accept_proposals=True, dry_run=True)
        elif kind == "commit" and review.exists():
            killed_commit(review, out, step)
    except ReliquatError:
        pass  # a refusal is an answer; what matters is what was exported
    del others


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(ledgers(), operations)
def test_any_sequence_exports_each_item_at_most_once_then_exactly_once(book, sequence):
    items, subscriptions = book
    should = {i.item_id for r in select(ledger(items, subscriptions), rules()).residuals
              if r.proposed_action is not Action.KEEP for i in r.items}
    with installation() as folder:
        source = write_csv_ledger(folder / "erp", items, subscriptions)
        for operation in sequence:
            run(operation, folder, source)
            exported = exported_items(folder / "X", folder / "Y")
            assert max(exported.values(), default=1) == 1, (operation, exported)
        for attempt in range(2):  # what a person does after anything: extract, commit the rest
            last = folder / "last" / f"review-{attempt}.xlsx"
            api.extract(source, last, as_of=AS_OF)
            with suppress(ReliquatError):
                api.commit(last, folder / "X", accept_proposals=True)
        exported = exported_items(folder / "X", folder / "Y")
        assert max(exported.values(), default=1) == 1
        assert set(exported) == should
        assert leftovers(folder / "X", folder / "Y", *folder.glob("w*"), last.parent) == []
