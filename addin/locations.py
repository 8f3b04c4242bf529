"""Source locations as users write them, and how they are shown without credentials."""

from __future__ import annotations

import re
from pathlib import Path

_PASSWORD = re.compile(r"^(?P<scheme>[a-zA-Z][\w+.-]*://)(?P<user>[^:/@]*):(?P<pw>[^@]*)@")


def is_url(source: str) -> bool:
    return "://" in source


def absolute_source(source: str) -> str:
    """A file source as an absolute path, so the workbook's record holds from any folder."""
    if is_url(source):
        return source
    return str(Path(source).expanduser().resolve())


def redact(source: str) -> str:
    """The location with any password replaced by ***: safe for records, logs and workbooks."""
    return _PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", source)
