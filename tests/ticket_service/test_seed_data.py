"""Integrity tests for the ticket-service development seed (demo enterprises)."""

from __future__ import annotations

import re

from services.credit_code import is_valid_credit_code
from ticket_service.seed_data import ENTERPRISES

MOBILE = re.compile(r"^1[3-9]\d{9}$")


def test_two_demo_enterprises() -> None:
    assert [e.key for e in ENTERPRISES] == ["enterprise-1", "enterprise-2"]
    assert len({e.name for e in ENTERPRISES}) == 2


def test_credit_codes_valid_distinct_and_local() -> None:
    codes = [e.credit_code for e in ENTERPRISES]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert is_valid_credit_code(code), code
        assert code[:2] == "91"  # market regulation, enterprise
        assert code[2:6] == "3211", code  # 镇江市 administrative division


def test_sizes_one_small_one_large() -> None:
    by_key = {e.key: e for e in ENTERPRISES}
    assert by_key["enterprise-1"].size == "small"
    assert by_key["enterprise-2"].size == "large"


def test_enterprise_1_is_taiwan_funded_in_development_zone() -> None:
    e1 = next(e for e in ENTERPRISES if e.key == "enterprise-1")
    assert e1.taiwan_funded
    assert e1.park == "镇江经济技术开发区"


def test_contact_fields() -> None:
    for e in ENTERPRISES:
        assert MOBILE.fullmatch(e.contact_phone), e.contact_phone
        assert e.contact_name and e.industry and e.park and e.name
