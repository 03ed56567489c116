"""servicekpi: after-sales service KPIs, scores, escalations and follow-ups."""
