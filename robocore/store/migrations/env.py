"""Alembic environment: migrations run on the connection Robocore hands over."""

from alembic import context

from robocore.store.models import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  # APScheduler keeps its own table in the same database
                  include_object=lambda obj, name, type_, *a: not (type_ == "table" and name == "apscheduler_jobs"),
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
