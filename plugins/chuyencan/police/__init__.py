"""Police reconciliation: commune household extracts, matching open cases, verdicts."""
