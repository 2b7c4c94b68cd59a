"""The pure core: no I/O, no clock, no asyncio. Edges turn I/O into these values."""
