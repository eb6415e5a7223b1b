"""Durable state: SQLAlchemy 2 models, the async database handle, migrations."""
