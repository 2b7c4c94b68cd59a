"""Our own session-bus names for control commands (``cooldownd next``...), apart so a command loads nothing else."""

CONTROL_NAME = "org.cooldownd.Walk"
CONTROL_PATH = "/org/cooldownd/Walk"
CONTROL_IFACE = "org.cooldownd.Walk1"
