"""The command line with a fault at one step of the commit protocol, for a test to run as a
subprocess: ``python -m tests.support.faults STEP HOW reliquat-arguments...``.

STEP is a pattern of the protocol's checkpoint names (fnmatch: ``claimed``, ``written``,
``revealed batch_*.json``, ``revealed postings_*``, ``exported``, ``done``); HOW is ``kill``
(SIGKILL: nothing runs after it), ``term`` or ``int`` (SIGTERM, SIGINT: as a user or a
scheduler sends them) or ``raise`` (an unexpected exception).
"""

from __future__ import annotations

import fnmatch
import os
import signal
import sys

SIGNALS = {"kill": signal.SIGKILL, "term": signal.SIGTERM, "int": signal.SIGINT}


def main() -> int:
    step, how, *arguments = sys.argv[1:]
    from addin.commit import protocol

    def checkpoint(name: str) -> None:
        if not fnmatch.fnmatch(name, step):
            return
        if how == "raise":
            raise RuntimeError(f"fault injected at {name}")
        os.kill(os.getpid(), SIGNALS[how])

    protocol.checkpoint = checkpoint
    from addin.cli import main as cli

    return cli(arguments)


if __name__ == "__main__":
    sys.exit(main())
