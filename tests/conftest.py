"""Shared fixtures. Tests run on the database DATABASE_URL names (SQLite by default)."""
