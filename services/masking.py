"""Masking personal data for readers who do not need it (phone numbers: 138****1234)."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(phone)
    return f"{''.join(digits[:3])}****{''.join(digits[-4:])}"
