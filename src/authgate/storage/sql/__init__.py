"""Records in SQL through SQLAlchemy Core: one schema for SQLite and PostgreSQL."""
