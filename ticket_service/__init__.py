"""The ticket service: enterprises, orders, tickets and their life cycle, the calendar."""
