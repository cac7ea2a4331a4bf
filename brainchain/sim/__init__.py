"""A deterministic, seeded network simulator that drives the consensus machines (STYLE.md §4)."""
