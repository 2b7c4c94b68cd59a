"""``cooldownd reassess``: judge stored workouts again after ``[athlete]`` (or ``[intensity]``) changed.

Also the lines that say so whenever stored numbers change (an import of older history, a settings
change noticed by ``import``): record/asof.py decides, this prints.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from cooldownd.record.asof import Change


def say_changes(changes: list[Change], why: str, out: TextIO = sys.stderr) -> None:
    """One line per workout whose numbers changed, then how many and why."""
    from cooldownd.core.wording import reassessed_line

    for c in changes:
        print(reassessed_line(c.id, c.before, c.after), file=out)
    if changes:
        print(f"{len(changes)} stored workout{'s' if len(changes) != 1 else ''} re-assessed: {why}", file=out)


def cmd_reassess(args: argparse.Namespace) -> int:
    """Judge every stored workout again with the current settings; print what changed."""
    from cooldownd.record.asof import reassess, rules_of
    from cooldownd.quicksettings import snapshot
    from cooldownd.store import Store

    settings = snapshot(args.config)
    store = Store.open(settings.store_path())
    try:
        changes = reassess(store, rules_of(settings))
    finally:
        store.close()
    say_changes(changes, "with the current [athlete] and [intensity] settings", sys.stdout)
    if not changes:
        print("every stored workout already has the numbers of the current settings")
    return 0
