"""Alembic environment and revisions of faxcore's schema (package data)."""
