"""The agent page (/agent): one agent's state, its call, its preview lead and its day, and its own buttons."""
