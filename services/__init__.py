"""Shared kernel of the 965808 platform: settings, database, auth, errors, pagination, calendar."""
