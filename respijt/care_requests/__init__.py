"""Care requests (aanvragen): intake with Dutch validation, access, options and choices,
withdrawal, expiry and series. Plain functions over a session: they flush, never commit.

Status steps go through `status.set_status()`; reservations made for a request move it along
through `status.follow_reservation()` (called by `reservations.changes.announce`).
"""
