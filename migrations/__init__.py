"""Alembic migrations for EduCase (run with `educase db upgrade`)."""
