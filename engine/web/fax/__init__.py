"""The console's fax route: a PDF from the agent page queued for the fax lines."""
