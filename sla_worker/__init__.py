"""The SLA worker: the ticket domain's background arm (arq)."""
