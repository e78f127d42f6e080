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


def test_bsuid_revision_keeps_contacts_across_upgrade_and_downgrade(database_url):
    """0011: an existing contact's phone is its wa_id; the downgrade returns to 0010_lists."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from desk.db import MIGRATIONS_DIR

    migrate(database_url, "0010_lists")
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO contacts (wa_id, profile_name, created_at) "
                              "VALUES ('16315551234', 'Kerry', '2026-01-01 00:00:00')"))
        migrate(database_url)
        with engine.begin() as conn:
            row = conn.execute(text("SELECT wa_id, phone, bsuid FROM contacts")).one()
            assert tuple(row) == ("16315551234", "16315551234", None)
            conn.execute(text("INSERT INTO contacts (wa_id, bsuid, username, created_at) VALUES "
                              "('US.1349120865', 'US.1349120865', 'mika', '2026-01-01 00:00:00')"))
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
        command.downgrade(cfg, "0010_lists")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM contacts")).scalar() == 2
            columns = [r[1] for r in conn.execute(text("PRAGMA table_info(contacts)"))] \
                if engine.dialect.name == "sqlite" else [r[0] for r in conn.execute(text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'contacts'"))]
            assert "bsuid" not in columns and "phone" not in columns
        migrate(database_url)
    finally:
        engine.dispose()


def test_console_locales_revision_allows_a_shortcut_per_language(database_url):
    """0021: old canned responses are English; /hours may then exist once per language, not twice in one;
    the downgrade keeps one /hours (the English one) and the upgrade works again."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from desk.db import MIGRATIONS_DIR

    migrate(database_url, "0020_lead_source")
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO brands (id, name, created_at) VALUES (1, 'Acme', '2026-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO canned_responses (brand_id, shortcut, title, text) "
                              "VALUES (1, 'hours', 'Hours', 'We open at 9.')"))
        migrate(database_url)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT language FROM canned_responses")).scalar() == "en"
            conn.execute(text("INSERT INTO canned_responses (brand_id, shortcut, title, text, language) "
                              "VALUES (1, 'hours', '営業時間', '9時からです。', 'ja')"))
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO canned_responses (brand_id, shortcut, title, text, language) "
                                  "VALUES (1, 'hours', 'Again', 'Twice in Japanese', 'ja')"))
        except IntegrityError:
            pass
        else:
            raise AssertionError("the same shortcut twice in one language was stored")
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
        command.downgrade(cfg, "0020_lead_source")
        with engine.begin() as conn:
            assert [tuple(r) for r in conn.execute(text("SELECT shortcut, title FROM canned_responses"))] == \
                [("hours", "Hours")]
        migrate(database_url)
    finally:
        engine.dispose()
