"""Tendermint consensus as a sans-I/O state machine (DESIGN.md §4, STYLE.md §4)."""
