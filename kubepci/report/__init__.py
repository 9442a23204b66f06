"""Outputs: per-check payloads, the terminal summary, JUnit properties, evidence pack, HTML."""
