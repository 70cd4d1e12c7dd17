"""Reservations: holds and stays over the night inventory; the inventory invariants live here."""
