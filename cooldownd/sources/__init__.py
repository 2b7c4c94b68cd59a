"""Where workouts come from without configuration: device and app folders, and intervals.icu.

``devices.py`` finds watches and bike computers (gvfs MTP, KDE kio-fuse, USB drives), ``apps.py`` app
folders (Zwift in Wine prefixes, Gadgetbridge synced by Syncthing), ``catalog.py`` lists every source and
why it is watched, ``found.py`` is the supervisor watching the found folders (through ``daemon/watch.py``),
``intervals.py`` the intervals.icu client and ``poller.py`` its supervisor.
"""
