"""Persistence: ORM models, engine and sessions, and the migrations that build the schema."""
