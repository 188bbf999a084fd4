"""Medication dispensing and substitution treatment for Danish addiction-treatment centres."""
