"""The report pages of the web console (/reports): each report of reports/ for the roles the policy lets read it."""
