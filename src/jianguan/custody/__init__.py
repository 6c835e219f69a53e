"""Custody: the people held (在押人员) and their legal status. Admission, movements and
deadlines build on this."""
