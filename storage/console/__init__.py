"""What the web console keeps: staff and their logins, sessions, the office, case views."""
