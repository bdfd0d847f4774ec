"""Wireshark display filters: scanner, parser, semantic check and evaluators."""
