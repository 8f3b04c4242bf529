"""Commit a review workbook: the decisions it carries, the facts of the source, one batch."""

from addin.commit.flow import CommitOutcome, CommitRequest, commit

__all__ = ["CommitOutcome", "CommitRequest", "commit"]
