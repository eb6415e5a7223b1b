"""Secrets: one-way hashes for passwords and PINs, SIP digest credentials."""
