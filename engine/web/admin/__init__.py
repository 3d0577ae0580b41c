"""The admin's pages of the web console: the users (routes.py)."""
