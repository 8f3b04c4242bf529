"""Where the register is: one per installation, never per workbook.

Named in the config (``[register] path`` for a file, ``url`` for a database a team shares);
with no config, one file per user in the platform's user data folder. The location never
depends on where a workbook, its copies or the exports are.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from addin.locations import Location

if TYPE_CHECKING:
    from addin.config import Config
    from addin.register.store import Register

REGISTER_FILE = "register.sqlite"


def default_register() -> Location:
    """The user's own register: %LOCALAPPDATA%\\Reliquat on Windows, ~/Library/Application
    Support/Reliquat on macOS, $XDG_DATA_HOME/reliquat (~/.local/share/reliquat) on Linux."""
    import platformdirs

    folder = Path(platformdirs.user_data_dir("Reliquat", appauthor=False, roaming=False))
    return Location.of(folder / REGISTER_FILE)


def register_for(config: Config) -> Register:
    """The register of this installation: the config's, else the user's default."""
    from addin.register.store import Register

    return Register(config.register or default_register())
