"""The gateway: the only public entry (auth, routing, merged OpenAPI, health)."""
