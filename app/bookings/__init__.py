"""Booking service: everything that creates or changes a booking goes through here."""
