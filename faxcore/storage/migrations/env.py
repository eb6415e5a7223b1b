"""Alembic environment: runs on the connection ``faxcore.storage.migrate`` hands over.

faxcore never runs Alembic from an ini file; ``migrate.alembic_config()``
builds the configuration and puts an open (synchronous facade of an async)
connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from faxcore.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "faxcore migrations run through faxcore.storage.migrate (faxcore db upgrade), "
        "not the alembic command"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things: batch mode recreates the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
