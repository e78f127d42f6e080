"""The Alembic migrations and the models describe the same schema, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from desk.db import migrate, sync_url
from desk.models import Base


def test_migrations_match_the_models(database_url):
    migrate(database_url)
    migrate(database_url)  # idempotent
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models changed without a migration: {diff}"
