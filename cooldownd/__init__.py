"""cooldownd: notices the end of a workout and walks you through a back-stretching cool-down."""

__version__ = "0.1.0"
