"""The notification service: hotline webhooks in, signed webhooks out, the user inbox."""
