"""Event reminders for clients (SMS/e-mail) and task reminders for assignees."""
