"""The customers\x27 pages."""
