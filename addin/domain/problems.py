"""Problems are data: where, what. Collected and shown together, raised only at the edge."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple


class Where(NamedTuple):
    """A place a user can go and look at: a file, a line (1-based, header = 1), a column."""

    file: str = ""
    line: int | None = None
    column: str = ""
    record: str = ""  # an item or subscription id when there is no line

    def __str__(self) -> str:
        parts = [self.file] if self.file else []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column:
            parts.append(f"column {self.column!r}")
        if self.record:
            parts.append(self.record)
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Problem:
    where: Where
    message: str

    def __str__(self) -> str:
        place = str(self.where)
        return f"{place}: {self.message}" if place else self.message


class ReliquatError(Exception):
    """An error a user can act on; the command line prints it without a traceback."""

    def __init__(self, problems: Iterable[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(Where(), problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.describe())

    def describe(self, limit: int = 20) -> str:
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        return "\n".join(lines)


class SourceError(ReliquatError):
    """The source data cannot be read as open items and subscriptions."""


class ConfigError(ReliquatError):
    """The settings (config file or options) are not usable."""


class CommitRefused(ReliquatError):
    """The commit checks failed: nothing was written."""


class StaleRows(CommitRefused):
    """Accepted rows changed in the source since extraction; the rest may go on if confirmed."""


class WorkbookError(ReliquatError):
    """The review workbook is not one this tool wrote, or was edited where it must not be."""
