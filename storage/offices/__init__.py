"""Offices: the LK3 offices one deployment serves, and what belongs to each."""
