"""Rules evaluated purely over records: complaint escalation and the closed loop."""
