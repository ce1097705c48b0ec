"""Alembic migrations of the warehouse, packaged so that `surgehub db upgrade` works from any folder."""
