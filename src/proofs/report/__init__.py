"""Rendering verdicts, evaluations and model summaries as text and JSON. UNTRUSTED (output only)."""
