"""Reports: calls, CSAT and tasks for a period, their XLSX export and the scheduled e-mails."""
