"""API keys, usage plans, and the metering that enforces them (`bucket`, `quota`: pure)."""
