"""Parsers of the user's deployment files (.env, schema.prisma, compose, pgbouncer.ini, ...)."""
