"""Alembic environment: migrations run on the connection Robocore hands over."""

from alembic import context

from robocore.store.migrate import compared
from robocore.store.models import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  include_object=compared(connection.dialect.name),
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
