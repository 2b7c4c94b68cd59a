"""The desktop: notification cards, the walk-through driver and the offers."""
