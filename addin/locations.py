"""Where a source or a register is: a file path or a database URL, as given and as shown.

A location may carry a password (``postgresql://anna:secret@db/erp``). It is redacted once,
here, where it enters: everything that is stored or printed (the register, the workbook, the
Journal, the batch record, messages) takes ``shown``; only a connection takes ``given``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_PASSWORD = re.compile(r"^(?P<scheme>[a-zA-Z][\w+.-]*://)(?P<user>[^:/@]*):(?P<pw>[^@]*)@")


def is_url(text: str) -> bool:
    return "://" in text


def redact(text: str) -> str:
    """The location with any password replaced by ***: safe for records, logs and workbooks."""
    return _PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)


@dataclass(frozen=True)
class Location:
    """A file path (made absolute) or a URL. ``str()`` gives the shown form, never the password.

    Attributes:
      given: what to open (may hold a password); never stored, never printed.
      shown: the same with the password replaced by ***.
    """

    given: str = field(repr=False)
    shown: str

    @classmethod
    def of(cls, text: str | Path, base: Path | None = None) -> Location:
        """A location as a user wrote it; a relative path is taken from ``base`` (the
        workbook's folder when it comes from the Control sheet), else the current folder."""
        text = str(text).strip()
        if is_url(text):
            return cls(text, redact(text))
        path = Path(text).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        absolute = str(path.resolve())
        return cls(absolute, absolute)

    @property
    def is_url(self) -> bool:
        return is_url(self.given)

    @property
    def path(self) -> Path:
        """The file path of a location that is not a URL."""
        assert not self.is_url, self.shown
        return Path(self.given)

    def __str__(self) -> str:
        return self.shown


PASSWORD_VARIABLE = "RELIQUAT_DB_PASSWORD"
KEYRING_SERVICE = "reliquat"


def with_password(url: str) -> str:
    """The URL to connect with: a password written in it is used as is; otherwise (or when it
    is the *** of a recorded URL) it comes from RELIQUAT_DB_PASSWORD or the user's keyring
    (service "reliquat", user "name@host"). The result is never recorded anywhere."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.password and parsed.password != "***":
        return url
    password = os.environ.get(PASSWORD_VARIABLE) or _from_keyring(parsed.username, parsed.host)
    if not password:
        return parsed.set(password=None).render_as_string(hide_password=False)
    return parsed.set(password=password).render_as_string(hide_password=False)


def _from_keyring(user: str | None, host: str | None) -> str | None:
    if not user:
        return None
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, f"{user}@{host or 'localhost'}")
    except KeyringError:
        return None
    except Exception:  # a keyring backend missing on a server is not an error here
        return None
