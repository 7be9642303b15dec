"""SPICE kernel files: DAF transfer-format conversion, binary DAF writing, kernel sets."""
