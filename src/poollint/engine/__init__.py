"""The engine: find files, screen them, parse once, run every rule, collect findings."""
