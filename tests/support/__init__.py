"""Test support code shared by several test directories: the reference interpreter (the differential oracle)."""
