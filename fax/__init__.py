"""Fax on the site's fax lines: received into PDFs and cases, sent from PDFs, at most ``[fax] lines`` at once."""
