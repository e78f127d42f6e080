"""Alembic environment: the URL comes from desk.db.migrate (or DESK_DATABASE_URL)."""
from alembic import context
from sqlalchemy import engine_from_config, pool

from desk.models import Base, Utc

config = context.config
if not config.get_main_option("sqlalchemy.url"):
    from desk.config import DeskSettings
    from desk.db import sync_url

    config.set_main_option("sqlalchemy.url", sync_url(DeskSettings.from_env().database_url))

def _render_item(type_, obj, autogen_context):
    """Autogenerate writes our UTC column type as the plain column it is in the database."""
    if type_ == "type" and isinstance(obj, Utc):
        return "sa.DateTime(timezone=True)"
    return False


connectable = engine_from_config(config.get_section(config.config_ini_section) or {
    "sqlalchemy.url": config.get_main_option("sqlalchemy.url")}, prefix="sqlalchemy.",
    poolclass=pool.NullPool)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()
