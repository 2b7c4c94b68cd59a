"""Install the systemd user unit for this installation (``cooldownd service install``)."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

UNIT_NAME = "cooldownd.service"
# The packaged unit starts `cooldownd` from PATH, which a user manager rarely has for a venv or
# ~/.local/bin: install writes the absolute path instead.
_EXEC_START = re.compile(r"^ExecStart=/usr/bin/env cooldownd run$", re.MULTILINE)
_READ_WRITE = re.compile(r"^ReadWritePaths=-%h/\.local/state/cooldownd$", re.MULTILINE)
SYSTEMCTL_HINT = "systemctl --user daemon-reload && systemctl --user enable --now cooldownd"


def packaged_unit() -> str:
    """The unit text as shipped in the package (``systemd/cooldownd.service`` in the source tree)."""
    return resources.files("cooldownd._systemd").joinpath(UNIT_NAME).read_text(encoding="utf-8")


def unit_text(exe: Path, state_dir: Path | None = None, template: str | None = None) -> str:
    """The unit with ExecStart running ``exe run`` (and the store's folder writable, if given)."""
    exe_arg = _quote(os.path.abspath(exe))
    text = packaged_unit() if template is None else template
    text, count = _EXEC_START.subn(lambda _: f"ExecStart={exe_arg} run", text)
    if count != 1:
        raise ValueError(f"{UNIT_NAME}: no 'ExecStart=/usr/bin/env cooldownd run' line to replace")
    if state_dir is not None:
        line = f"ReadWritePaths=-{_quote(os.path.abspath(state_dir))}"
        text = _READ_WRITE.sub(lambda _: line, text)
    return text


def install_unit(
    exe: Path, config_home: Path, state_dir: Path | None = None, template: str | None = None,
    cache_dir: Path | None = None,
) -> Path:
    """Write ``config_home/systemd/user/cooldownd.service`` for ``exe``; returns its path.

    ``state_dir`` (the store's folder) and ``cache_dir`` (rendered pictures, chimes) are created
    0700 first: the unit makes only them writable, and a folder that does not exist yet could
    not be created under ProtectHome=read-only.
    """
    text = unit_text(exe, state_dir, template)
    for folder in (state_dir, cache_dir):
        if folder is not None:
            Path(folder).mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = Path(config_home) / "systemd" / "user"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / UNIT_NAME
    tmp = path.with_name(f".{UNIT_NAME}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # atomic: a concurrent daemon-reload never sees half a unit
    return path


def _quote(path: str) -> str:
    """A path as one systemd command-line word: % and \\ escaped, quoted when it has blanks."""
    word = path.replace("\\", "\\\\").replace("%", "%%")
    if any(c.isspace() or c in "\"'" for c in word):
        word = '"' + word.replace('"', '\\"') + '"'
    return word
