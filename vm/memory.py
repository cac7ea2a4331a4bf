"""Byte-addressed memory; growth is paid for before it happens (vm/gas.py)."""

from __future__ import annotations


def memory_write(memory: bytearray, start: int, value: bytes) -> None:
    """Write `value` at `start` (memory was already extended to cover it)."""
    memory[start : start + len(value)] = value


def memory_read_bytes(memory: bytearray, start: int, size: int) -> bytes:
    """Read `size` bytes at `start` (memory was already extended to cover it)."""
    return bytes(memory[start : start + size])


def buffer_read(buffer: bytes, start: int, size: int) -> bytes:
    """Read from call data, code or return data, zero-padded past the end."""
    if size == 0:
        return b""
    chunk = buffer[start : start + size] if start < len(buffer) else b""
    return chunk + bytes(size - len(chunk))
