"""Precompiled contracts: the standard 0x01–0x0a and, later, BRAIN's 0x…0b01–0b05."""
