"""The command-line front door: parse, configure logging once, dispatch, turn errors into one line.

Exit codes: 0 fine, 1 some input failed, 2 usage, 78 configuration error. Heavy libraries are
imported inside the commands that need them so ``cooldownd --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cooldownd import __version__
from cooldownd.errors import ConfigError, CooldownError

if TYPE_CHECKING:
    import datetime as dt

    from cooldownd.settings import Settings

log = logging.getLogger("cooldownd")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 78
LEVELS = ("light", "moderate", "hard", "very_hard")
CONTROL_COMMANDS = {"start": "start the cool-down on offer", "next": "go to the next stretch",
                    "later": "ask again later", "stop": "stop the cool-down (or skip the offer)"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cooldownd", description="Notices the end of a workout and walks you "
                                "through a back-stretching cool-down.")
    p.add_argument("--version", action="version", version=f"cooldownd {__version__}")
    p.add_argument("--config", metavar="PATH", help="configuration file (default: $COOLDOWND_CONFIG, "
                   "else $XDG_CONFIG_HOME/cooldownd/config.toml)")
    noise = p.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="store_true", help="debug logging (and tracebacks)")
    noise.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _workout_commands(sub)
    _service_commands(sub)
    for choice in sub._choices_actions:  # `cooldownd X --help` says what X does, as `cooldownd --help` does
        sub.choices[choice.dest].description = choice.help
    return p


def _workout_commands(sub: argparse._SubParsersAction) -> None:
    """Commands about workouts and their cool-downs."""
    imp = sub.add_parser("import", help="import .fit, .fit.gz, .zip files or folders (or --from intervals)")
    imp.add_argument("paths", nargs="*", metavar="PATH", help="a file (.fit, .fit.gz, .zip) or a folder")
    imp.add_argument("--from", dest="source", choices=("intervals",), help="backfill from intervals.icu "
                     "([sources.intervals]) instead of files")
    imp.add_argument("--since", type=_since, metavar="DATE", help="with --from: activities since this date "
                     "(YYYY-MM-DD; default: notify.max_age ago)")
    imp.add_argument("--json", action="store_true", help="one JSON object per line per workout or failed input")
    imp.add_argument("--no-notify", action="store_true", help="record only, never offer a walk-through")
    imp.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: one per core)")
    scan = sub.add_parser("scan", help="list nearby heart-rate devices")
    scan.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds to listen (default: 10)")
    rt = sub.add_parser("routine", help="walk through a routine now (or print it)")
    rt.add_argument("--level", choices=LEVELS, default="moderate", help="how hard the workout was (default: moderate)")
    rt.add_argument("--sport", default="generic", help="FIT sport name, e.g. cycling, running, training")
    rt.add_argument("--dry-run", action="store_true", help="print the routine instead of walking through it")
    hist = sub.add_parser("history", help="recent workouts and their walk-throughs")
    hist.add_argument("--json", action="store_true", help="one JSON object per line per workout")
    hist.add_argument("--limit", type=int, default=20, metavar="N", help="the newest N workouts (default: 20)")
    hist.add_argument("--all", action="store_true",
                      help="also the poorer copies a richer record of the same session superseded (marked)")
    sub.add_parser("reassess", help="recompute stored workouts after [athlete] changes")
    demo = sub.add_parser("demo", help="a synthetic workout end to end; no strap or desktop needed")
    demo.add_argument("--fast", action="store_true", help="short holds: the whole walk-through takes seconds")
    for name, what in CONTROL_COMMANDS.items():
        sub.add_parser(name, help=f"{what} (acts on the running cooldownd's current card)")


def _service_commands(sub: argparse._SubParsersAction) -> None:
    """The daemon, its configuration and what it watches."""
    sub.add_parser("run", help="the daemon in the foreground (what systemd starts)")
    st = sub.add_parser("status", help="what the daemon is doing")
    st.add_argument("--json", action="store_true", help="the same as --format json")
    st.add_argument("--format", choices=("text", "json", "waybar"), default=None,
                    help="waybar: {text, tooltip, class} for status bars (waybar, i3blocks)")
    st.add_argument("--follow", action="store_true", help="print a line again on every change, until killed")
    cfg = sub.add_parser("config", help="check, show or locate the configuration")
    cfg.add_argument("action", choices=("check", "show", "path"), help="check: validate it; show: the effective "
                     "settings as TOML (secrets hidden); path: where it is read from")
    svc = sub.add_parser("service", help="systemd user service")
    svc.add_argument("action", choices=("install",), help="install: write the systemd user unit, our icon and "
                     ".desktop entry")
    rep = sub.add_parser("report", help="write an HTML report with charts (self-contained, renders offline)")
    rep.add_argument("--out", metavar="FILE", help="where to write it (default: $XDG_DATA_HOME/cooldownd/report.html)")
    rep.add_argument("--open", action="store_true", help="open it in the default browser (xdg-open)")
    rep.add_argument("--since", type=_since, metavar="DATE", help="first day shown, e.g. 2024-05-04 "
                     "(default: the last 12 weeks)")
    src = sub.add_parser("sources", help="what is watched or polled, and why")
    src.add_argument("--json", action="store_true", help="one JSON object per line per source")


def _since(text: str) -> dt.date:
    """``--since`` (``import --from intervals``, ``report``): an ISO date like 2024-05-01."""
    import datetime

    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-05-01") from None


def _setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    # journald stamps every line itself; a terminal gets our own time stamps.
    fmt = "%(levelname)s %(name)s: %(message)s" if os.environ.get("JOURNAL_STREAM") else \
        "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, datefmt="%H:%M:%S", stream=sys.stderr, force=True)
    if not verbose:
        for noisy in ("bleak", "dbus_fast", "desktop_notifier", "httpx", "httpcore"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cooldownd`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "import" and bool(args.paths) == bool(args.source):
        parser.error("import: give PATH... or --from intervals, not both or neither")
    if args.command == "import" and args.since and not args.source:
        parser.error("import: --since goes with --from intervals")
    _setup_logging(args.verbose, args.quiet)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(f"cooldownd: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CooldownError as exc:
        print(f"cooldownd: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the reader left: not an error.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # a traceback is for developers: -v shows it
        if args.verbose:
            log.exception("internal error")
        print(f"cooldownd: internal error: {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return EXIT_FAILED


def _settings(args: argparse.Namespace) -> Settings:
    from cooldownd import settings as cfg

    return cfg.load(args.config)[0]


def cmd_history(args: argparse.Namespace) -> int:
    """Recent workouts with their walk-through outcome (``--all``: superseded copies too, marked)."""
    from cooldownd.daemon.instance import open_for_reading
    from cooldownd.quicksettings import snapshot
    from cooldownd.record.lines import history_line

    settings = snapshot(args.config)  # the store's path only: no pydantic (quicksettings.py)
    store = open_for_reading(settings)  # read-only: never writes a database a running daemon holds
    rows = []
    if store is not None:
        try:
            rows = store.workouts(limit=max(args.limit, 0), superseded=args.all)
        finally:
            store.close()
    for row in rows:
        entry = history_line(row, marked=args.all)
        if args.json:
            print(json.dumps(entry))
        else:
            print(_history_line(entry))
    if not rows and not args.json:
        print("no workouts yet")
    return EXIT_OK


def _history_line(e: dict) -> str:
    from cooldownd.core.wording import format_duration, level_word, sport_word, walkthrough

    load = e.get("load")
    outcome = walkthrough(e.get("walkthrough"), bool(e.get("offered_at")))
    mark = f"  (superseded by #{e['superseded_by']})" if e.get("superseded_by") else ""
    sport = sport_word(e.get("sport") or "", e.get("sub_sport") or "generic")
    return (f"{(e.get('start') or '')[:16].replace('T', ' ')}  {sport:<16} "
            f"{format_duration(e.get('duration_s') or 0):>9}  load {load if load is not None else '-':>5}  "
            f"walk-through: {outcome:<9}  {e.get('reason') or level_word(e.get('level') or '-')}{mark}")


def cmd_service(args: argparse.Namespace) -> int:
    """Write the systemd user unit for this installation."""
    import shutil
    from pathlib import Path

    from cooldownd.daemon.service import SYSTEMCTL_HINT, install_unit
    from cooldownd.configfile import cache_dir
    from cooldownd.settings import config_home

    settings = _settings(args)
    argv0 = Path(sys.argv[0])
    if argv0.name == "cooldownd" and argv0.exists():
        exe = argv0.absolute()
    else:  # python -m cooldownd: the console script next to this interpreter
        found = shutil.which("cooldownd", path=str(Path(sys.executable).parent)) or shutil.which("cooldownd")
        exe = Path(found).absolute() if found else Path(sys.executable).parent / "cooldownd"
    unit = install_unit(exe, config_home(), state_dir=settings.store_path().parent, cache_dir=cache_dir())
    print(f"wrote {unit}")
    from cooldownd.desktop.identity import install_identity

    for path in install_identity(exe):  # our name and icon where notification servers look them up
        print(f"wrote {path}")
    print(SYSTEMCTL_HINT)
    return EXIT_OK


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module), name)(args)

    return run


def _import(args: argparse.Namespace) -> int:
    """``import PATHS`` or ``import --from intervals``."""
    if getattr(args, "source", None) == "intervals":
        return _lazy("cooldownd.cli.sources", "cmd_import_intervals")(args)
    return _lazy("cooldownd.cli.commands", "cmd_import")(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "config": _lazy("cooldownd.cli.config", "cmd_config"),
    "history": cmd_history,
    "service": cmd_service,
    "run": _lazy("cooldownd.daemon.app", "cmd_run"),
    "status": _lazy("cooldownd.daemon.instance", "cmd_status"),
    "import": _import,
    "reassess": _lazy("cooldownd.cli.reassess", "cmd_reassess"),
    "scan": _lazy("cooldownd.cli.commands", "cmd_scan"),
    "routine": _lazy("cooldownd.cli.commands", "cmd_routine"),
    "demo": _lazy("cooldownd.cli.commands", "cmd_demo"),
    "sources": _lazy("cooldownd.cli.sources", "cmd_sources"),
    "report": _lazy("cooldownd.cli.report", "cmd_report"),
} | {name: _lazy("cooldownd.cli.control", "cmd_control") for name in CONTROL_COMMANDS}
