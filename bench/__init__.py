"""A load benchmark of the service on PostgreSQL and SQLite: `python -m bench`."""
