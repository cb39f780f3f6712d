"""Actions the router runs for an intent: knowledge-base retrieval, HTTP APIs, unit conversion."""
