"""EVM instructions, one function per opcode, grouped as execution-specs groups them."""
