"""The wallboard (/wallboard): the live bus's states on one screen, pushed to each browser as server-sent events."""
