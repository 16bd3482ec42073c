"""A corpus of bad inputs for the intakes (issue 6, hardening), built by code at test time."""
