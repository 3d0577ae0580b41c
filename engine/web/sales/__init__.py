"""The orders page (/sales)."""
