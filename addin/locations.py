"""Source locations as users write them, and how they are shown without credentials."""

from __future__ import annotations

import os
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
