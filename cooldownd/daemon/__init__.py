"""The daemon: supervisors wired in one TaskGroup, watched folders, systemd, the single instance."""
