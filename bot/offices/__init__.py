"""Offices: which office a family, a counsellor and a case belong to; `lk3 office`."""
