"""Integrity tests for the catalog development seed (catalog_service.seed_data)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter

import pytest

from catalog_service.seed_data import (
    CATEGORIES,
    DEPARTMENTS,
    ITEMS,
    MENU_EDITION,
    POLICIES,
    ItemSeed,
)

LOWER_CODE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
UPPER_CODE = re.compile(r"^[A-Z][A-Z0-9-]{1,31}$")
OFFICE_PHONE = re.compile(r"^0511-\d{8}$")
SLA_PROFILE = re.compile(r"^(\d+)-(\d+)-(\d+)$")
CJK = re.compile(r"[\u4e00-\u9fff]")
SIZES = {"large", "medium", "small", "micro"}

DEPARTMENT_CODES = {d.code for d in DEPARTMENTS}
CATEGORY_CODES = {c.code for c in CATEGORIES}
POLICY_CODES = {p.code for p in POLICIES}


def _date(value: str) -> dt.date:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), value
    return dt.date.fromisoformat(value)


# --- departments -----------------------------------------------------------


def test_thirty_six_unique_departments() -> None:
    assert len(DEPARTMENTS) == 36
    assert len(DEPARTMENT_CODES) == 36
    assert len({d.name for d in DEPARTMENTS}) == 36
    assert len({d.short_name for d in DEPARTMENTS}) == 36
    assert len({d.phone for d in DEPARTMENTS}) == 36


def test_department_fields() -> None:
    for d in DEPARTMENTS:
        assert LOWER_CODE.fullmatch(d.code), d.code
        assert CJK.search(d.name), d.name
        assert CJK.search(d.short_name), d.short_name
        assert OFFICE_PHONE.fullmatch(d.phone), d.phone


def test_key_departments_present() -> None:
    names = {d.code: d.name for d in DEPARTMENTS}
    assert names["jxw"] == "市经济和信息化委员会"
    assert names["fgw"] == "市发展和改革委员会"
    assert names["kjj"] == "市科学技术局"
    assert names["tb"] == "市台湾事务办公室"
    # Service providers such as the power company are not departments.
    assert not any("供电" in d.name for d in DEPARTMENTS)


# --- categories ------------------------------------------------------------


def test_eight_categories() -> None:
    assert len(CATEGORIES) == 8
    assert len(CATEGORY_CODES) == 8
    assert len({c.name for c in CATEGORIES}) == 8
    assert sorted(c.sort_order for c in CATEGORIES) == list(range(1, 9))
    names = {c.name for c in CATEGORIES}
    assert {"科技创新", "技术改造", "绿色节能"} <= names


def test_category_fields() -> None:
    for c in CATEGORIES:
        assert LOWER_CODE.fullmatch(c.code), c.code
        assert CJK.search(c.name) and CJK.search(c.description)
        co = c.default_co_department_codes
        assert 2 <= len(co) <= 3, c.code
        assert len(set(co)) == len(co), c.code
        assert set(co) <= DEPARTMENT_CODES, c.code


# --- policies --------------------------------------------------------------


def test_policies() -> None:
    assert 10 <= len(POLICIES) <= 15
    assert len(POLICY_CODES) == len(POLICIES)
    assert len({p.title for p in POLICIES}) == len(POLICIES)
    assert len({p.document_number for p in POLICIES}) == len(POLICIES)
    assert {p.level for p in POLICIES} == {"national", "provincial", "municipal"}
    prefixes = {"national": "POL-NAT-", "provincial": "POL-PRV-", "municipal": "POL-MUN-"}
    published = _date(MENU_EDITION.published_on)
    for p in POLICIES:
        assert UPPER_CODE.fullmatch(p.code), p.code
        assert p.code.startswith(prefixes[p.level]), p.code
        issued = _date(p.issued_on)
        assert dt.date(2015, 1, 1) <= issued <= published, p.code
        assert str(issued.year) in p.code
        assert re.fullmatch(r"\S+〔\d{4}〕\d+号", p.document_number), p.document_number
        assert CJK.search(p.title) and CJK.search(p.issuer) and CJK.search(p.summary)
    for p in POLICIES:
        if p.level == "provincial":
            assert "江苏" in p.issuer
        if p.level == "municipal":
            assert "镇江" in p.issuer


# --- items -----------------------------------------------------------------


def test_fifty_unique_items() -> None:
    assert len(ITEMS) == 50
    assert len({i.code for i in ITEMS}) == 50
    assert len({i.title for i in ITEMS}) == 50


def test_items_cover_all_categories_evenly() -> None:
    per_category = Counter(i.category_code for i in ITEMS)
    assert set(per_category) == CATEGORY_CODES
    for code, count in per_category.items():
        assert 5 <= count <= 8, (code, count)


def test_item_code_prefix_per_category() -> None:
    prefixes: dict[str, set[str]] = {}
    for i in ITEMS:
        assert UPPER_CODE.fullmatch(i.code), i.code
        assert re.fullmatch(r"[A-Z]{2}-\d{3}", i.code), i.code
        prefixes.setdefault(i.category_code, set()).add(i.code.split("-")[0])
    assert all(len(p) == 1 for p in prefixes.values()), prefixes
    all_prefixes = [next(iter(p)) for p in prefixes.values()]
    assert len(set(all_prefixes)) == len(all_prefixes)


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i.code)
def test_item_references_and_fields(item: ItemSeed) -> None:
    assert CJK.search(item.title) and CJK.search(item.description)
    assert item.category_code in CATEGORY_CODES
    assert item.lead_department_code in DEPARTMENT_CODES
    co = item.co_department_codes
    assert len(co) <= 3
    assert len(set(co)) == len(co)
    assert set(co) <= DEPARTMENT_CODES
    assert item.lead_department_code not in co
    assert item.eligible_sizes
    assert len(set(item.eligible_sizes)) == len(item.eligible_sizes)
    assert set(item.eligible_sizes) <= SIZES
    assert 1 <= len(item.required_materials) <= 4
    assert all(CJK.search(m) for m in item.required_materials)
    assert len(item.policy_codes) <= 2
    assert len(set(item.policy_codes)) == len(item.policy_codes)
    assert set(item.policy_codes) <= POLICY_CODES


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i.code)
def test_sla_profile_parses_and_is_non_decreasing(item: ItemSeed) -> None:
    match = SLA_PROFILE.fullmatch(item.sla_profile)
    assert match, item.sla_profile
    accept, resolve, final = (int(g) for g in match.groups())
    assert 1 <= accept <= resolve <= final


def test_sla_profiles_mostly_1_3_5() -> None:
    profiles = Counter(i.sla_profile for i in ITEMS)
    assert profiles["1-3-5"] > len(ITEMS) // 2
    assert len(profiles) > 1


def test_eligible_size_distribution() -> None:
    sizes = [frozenset(i.eligible_sizes) for i in ITEMS]
    assert sum(s == SIZES for s in sizes) > len(ITEMS) // 2
    assert sum(s == {"small", "micro"} for s in sizes) >= 5
    assert sum(s == {"large", "medium"} for s in sizes) >= 2


def test_green_energy_subsidy_item() -> None:
    matches = [i for i in ITEMS if i.title == "绿色节能技术改造补贴"]
    assert len(matches) == 1
    categories = {c.code: c.name for c in CATEGORIES}
    assert categories[matches[0].category_code] == "绿色节能"


def test_taiwan_affairs_office_handles_items() -> None:
    assert any(i.lead_department_code == "tb" for i in ITEMS)


# --- menu edition ----------------------------------------------------------


def test_menu_edition() -> None:
    assert MENU_EDITION.code == "2016-01"
    assert MENU_EDITION.title == "镇江市涉企服务菜单（第一批）"
    assert _date(MENU_EDITION.published_on).year == 2016
    assert MENU_EDITION.item_codes == tuple(i.code for i in ITEMS)
    assert len(MENU_EDITION.item_codes) == 50


def test_seed_records_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ITEMS[0].title = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEPARTMENTS[0].code = "changed"  # type: ignore[misc]
