"""Hosts and their API keys: creating them, finding them, the demo data."""
