"""FIT decoding: bytes to messages (fastfit, fitparse fallback) and messages to core Workouts."""
