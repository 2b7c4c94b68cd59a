"""The systemd user unit, shipped as the cooldownd._systemd package (see pyproject.toml)."""
