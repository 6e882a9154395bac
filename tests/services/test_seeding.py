"""Demo facts gathered seed after seed: each seed adds to what the earlier ones reported."""

from __future__ import annotations

from services.seeding import DemoFacts


def test_facts_accumulate_and_a_later_seed_wins_on_the_same_key() -> None:
    catalogue = DemoFacts(department_codes=("jxw", "kjj"))
    tickets = DemoFacts(enterprise_ids={"enterprise-1": "e1", "enterprise-2": "e2"})
    again = DemoFacts(department_codes=("kjj", "swj"), enterprise_ids={"enterprise-2": "e2-new"})
    gathered = DemoFacts().including(catalogue).including(tickets).including(again)
    assert gathered.department_codes == ("jxw", "kjj", "swj")
    assert gathered.enterprise_ids == {"enterprise-1": "e1", "enterprise-2": "e2-new"}
    assert catalogue == DemoFacts(department_codes=("jxw", "kjj"))
