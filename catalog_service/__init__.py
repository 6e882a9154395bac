"""The catalogue service: departments, categories, service items, policies and menu editions."""
