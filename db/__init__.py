"""annops storage: SQLAlchemy models, engine and session factories, queries, migrations."""
