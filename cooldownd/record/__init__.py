"""Recording: an assessed workout becomes a stored row (and the lines import and history print)."""
