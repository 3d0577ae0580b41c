"""The team page (/team): a team lead's agents, the services and the alerts on them, pushed as server-sent events,
with the lead's actions posted to the console's /api/action."""
