"""Device and app folders found without configuration: real folder trees shaped like the real mounts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cli
from cooldownd import settings as cfg
from cooldownd.sources import apps, devices
from cooldownd.sources.catalog import found_folders

LAYOUT_CASES = [
    # (how it is mounted, path below $XDG_RUNTIME_DIR, activity folder inside, brand)
    ("gvfs, newer Garmin", "gvfs/mtp:host=Garmin_Edge_1050_0000d118d100", "Internal Storage/Garmin/Activities",
     "Garmin"),
    ("gvfs, older Garmin", "gvfs/mtp:host=091e_4cdb_0000abc", "Primary/GARMIN/Activity", "Garmin"),
    ("gvfs, upper case", "gvfs/mtp:host=Garmin_fenix_3", "Internal Storage/GARMIN/ACTIVITY", "Garmin"),
    ("gvfs, Wahoo", "gvfs/mtp:host=Wahoo_Fitness_ELEMNT_BOLT_123", "Internal shared storage/exports", "Wahoo"),
    ("gvfs, Karoo", "gvfs/mtp:host=Hammerhead_Karoo_2_99", "Internal shared storage/FitFiles", "Hammerhead"),
    ("gvfs, COROS", "gvfs/mtp:host=COROS_APEX_2", "Storage/COROS/Activity", "COROS"),
    ("kio-fuse", "kio-fuse-AbCdEf/mtp/fenix 7", "Internal Storage/Garmin/Activities", "Garmin"),
]


@pytest.mark.parametrize("how,mount,inside,brand", LAYOUT_CASES, ids=[c[0] for c in LAYOUT_CASES])
def test_device_layouts_are_found_case_insensitively(tmp_path: Path, how: str, mount: str, inside: str,
                                                     brand: str) -> None:
    runtime = tmp_path / "run"
    (runtime / mount / inside).mkdir(parents=True)
    (runtime / mount / "Internal Storage" / "Music").mkdir(parents=True, exist_ok=True)
    found = devices.find_devices(str(runtime), user="nobody-here")
    assert [f.path for f in found] == [runtime / mount / inside]
    assert found[0].why == "found device" and found[0].label.startswith(f"{brand} (MTP ")


def test_other_gvfs_mounts_and_empty_devices_are_not_devices(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    (runtime / "gvfs" / "smb-share:server=nas,share=garmin" / "Garmin" / "Activities").mkdir(parents=True)
    (runtime / "gvfs" / "mtp:host=SAMSUNG_Android_R58" / "Internal storage" / "DCIM").mkdir(parents=True)
    (runtime / "gvfs" / "mtp:host=Garmin_broken").write_text("not a folder")
    assert devices.find_devices(str(runtime), user="nobody-here") == []
    assert devices.find_devices(str(tmp_path / "no-such-runtime"), user="nobody-here") == []


def test_layouts_each_name_their_source() -> None:
    for layout in devices.LAYOUTS:
        assert len(layout.source) > 40, layout


def _prefix(base: Path, user: str = "steamuser", docs: str = "Documents") -> Path:
    folder = base / "drive_c" / "users" / user / docs / "Zwift" / "Activities"
    folder.mkdir(parents=True)
    return folder


def test_zwift_in_wine_lutris_and_bottles_prefixes(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "home" / ".local" / "share"
    wine = _prefix(home / ".wine", "me", "My Documents")
    lutris = _prefix(home / "Games" / "zwift")
    bottles = _prefix(data / "bottles" / "bottles" / "Zwift")
    flatpak = _prefix(home / ".var/app/com.usebottles.bottles/data/bottles/bottles/Zwift2")
    (home / "Games" / "not-wine").mkdir()
    found = apps.find_zwift(home, data)
    assert [f.path for f in found] == [wine, lutris, bottles, flatpak]
    assert all(f.why == "found app folder" and f.label.startswith("Zwift (Wine prefix ") for f in found)


def _syncthing(path: Path, folders: list[tuple[str, str, Path]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f'<folder id="{i}" label="{label}" path="{p}" type="receiveonly"></folder>'
                   for i, label, p in folders)
    path.write_text(f'<configuration version="37">{body}<device id="X" name="phone"></device></configuration>')


def test_gadgetbridge_synced_by_syncthing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    state, config = home / ".local" / "state", home / ".config"
    named = home / "Phone" / "gb-export"
    inside = home / "Sync" / "Gadgetbridge"
    other = home / "Photos"
    for p in (named, inside, other):
        p.mkdir(parents=True)
    _syncthing(state / "syncthing" / "config.xml",
               [("abcd-1234", "Gadgetbridge export", named), ("default", "Default Folder", home / "Sync"),
                ("photos", "Photos", other)])
    found = apps.find_gadgetbridge(home, state, config)
    assert [f.path for f in found] == [named, inside]
    assert found[0].label == "Gadgetbridge (Syncthing folder 'gb-export')"
    (state / "syncthing" / "config.xml").write_text("<configuration><folder path=")  # broken: nothing, no error
    assert apps.find_gadgetbridge(home, state, config) == []


def test_configured_folders_are_not_found_twice_and_auto_off_finds_nothing(home: Path) -> None:
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    garmin = runtime / "gvfs" / "mtp:host=Garmin_Edge_530" / "Internal Storage" / "Garmin" / "Activities"
    garmin.mkdir(parents=True)
    zwift = _prefix(home / ".wine")
    found = found_folders(cfg.Settings().watch)
    assert {f.path for f in found} == {garmin, zwift}
    configured = cfg.Settings(watch={"folders": [str(runtime / "gvfs" / "*" / "*" / "Garmin")]}).watch
    assert [f.path for f in found_folders(configured)] == [zwift]
    assert found_folders(cfg.Settings(watch={"auto": False}).watch) == []


def test_sources_command_lists_what_and_why(home: Path) -> None:
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    garmin = runtime / "gvfs" / "mtp:host=Garmin_Edge_530" / "Internal Storage" / "Garmin" / "Activities"
    garmin.mkdir(parents=True)
    (home / "in").mkdir()
    for card in ("sd-a", "sd-b"):
        (home / "media" / card / "Activities").mkdir(parents=True)
    conf = home / "c.toml"
    conf.write_text(f'[watch]\nfolders = ["{home / "in"}", "{home / "missing"}", "{home / "media/*/Activities"}", '
                    f'"{home / "usb/*/GARMIN/Activity"}"]\n')
    out = run_cli("--config", str(conf), "sources", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    by_name = {r["name"]: r for r in rows}
    assert by_name[str(home / "in")]["why"] == "configured" and by_name[str(home / "in")]["how"] == "inotify"
    assert by_name[str(home / "missing")]["present"] is False
    assert by_name[str(home / "missing")]["how"] == "not there now; looked for every poll"
    # a glob: each folder it matches now, each labelled with the pattern; one matching nothing says so
    for card in ("sd-a", "sd-b"):
        match = by_name[str(home / "media" / card / "Activities")]
        assert match["present"] is True and match["label"] == f"watch.folders: {home / 'media/*/Activities'}"
    unmatched = by_name[str(home / "usb/*/GARMIN/Activity")]
    assert unmatched["present"] is False and unmatched["how"] == "nothing matches now; looked for every poll"
    assert str(home / "media/*/Activities") not in by_name
    assert by_name[str(garmin)]["why"] == "found device" and by_name[str(garmin)]["label"].startswith("Garmin (MTP")
    assert by_name["intervals.icu"]["why"] == "not configured"
    human = run_cli("--config", str(conf), "sources")
    assert "found device: Garmin (MTP Garmin_Edge_530)" in human.stdout
    assert "nothing matches now" in human.stdout
