"""Shared helpers every stage may import: seeding, devices, atomic writes, figures."""
