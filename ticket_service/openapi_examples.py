"""Request examples the OpenAPI document shows for the ticket service's bodies: realistic cases
from a Zhenjiang enterprise's life, one or more per body (`openapi_examples` of FastAPI's `Body`)."""

from __future__ import annotations

from typing import Any

from ticket_service.lifecycle import Action

Examples = dict[str, dict[str, Any]]

ORDER: Examples = {
    "two_items": {
        "summary": "Two items from the menu",
        "description": "An enterprise orders the high-tech certification coaching and the R&D deduction coaching.",
        "value": {
            "items": [
                {"item_code": "KJ-001", "note": "计划今年申报高新技术企业，希望上门辅导材料准备。"},
                {"item_code": "KJ-002", "note": ""},
            ]
        },
    },
}

REQUEST: Examples = {
    "enterprise_request": {
        "summary": "An enterprise's own request",
        "value": {
            "title": "用电增容审批进度咨询",
            "description": "我公司新建厂房需增容至2000千伏安，9月初已提交申请，目前无进展，请协调供电公司加快审批。",
            "category_code": "power-energy",
            "channel": "web",
        },
    },
    "dispatcher_visit": {
        "summary": "A dispatcher files a visit for an enterprise",
        "description": "`enterprise_id`, `department_code` and `received_at` are for dispatchers only.",
        "value": {
            "title": "台资企业员工子女入学咨询",
            "description": "企业负责人来访反映：三名台籍员工子女需在丹徒区就近入学，咨询办理流程和所需材料。",
            "channel": "visit",
            "enterprise_id": "0b1c7f0e-3f7a-4c1e-9d57-5a2f1e8d9c41",
            "department_code": "jyj",
            "received_at": "2026-09-28T10:30:00+08:00",
        },
    },
}

FEEDBACK: Examples = {
    "satisfied": {
        "summary": "Satisfied",
        "description": "Recorded; the ticket stays resolved until it is closed.",
        "value": {"rating": "satisfied", "comment": "经信委两天就协调好了，非常感谢！"},
    },
    "unsatisfied": {
        "summary": "Unsatisfied: the ticket reopens",
        "value": {"rating": "unsatisfied", "comment": "只答复了政策条文，实际问题没有解决。"},
    },
}

ENTERPRISE: Examples = {
    "small_enterprise": {
        "summary": "A small manufacturer",
        "value": {
            "name": "镇江台丰精密机械有限公司",
            "credit_code": "91321100MA1MDGGQ49",
            "size": "small",
            "taiwan_funded": True,
            "industry": "通用设备制造",
            "park": "镇江经济技术开发区",
            "contact_name": "林志明",
            "contact_phone": "13805290000",
        },
    },
}

_ACTION_VALUES: dict[Action, tuple[str, dict[str, Any]]] = {
    Action.ACCEPT: ("Accept with a reply", {"note": "已受理，三个工作日内联系贵公司上门了解情况。"}),
    Action.START: ("Start handling", {}),
    Action.REQUEST_INFO: (
        "Ask for the missing documents",
        {"note": "请补充提供近三年研发费用明细账及高新技术产品收入说明。"},
    ),
    Action.RESUME: ("Resume: the documents came", {}),
    Action.RESOLVE: ("Resolved", {"result": "已协调供电公司完成增容方案审批，预计10月15日前完成接电。"}),
    Action.EXPLAIN: (
        "Explain why it cannot be done",
        {"explanation": "该地块规划用途为工业用地，按现行规定不能变更为商业用途，已向企业当面解释。"},
    ),
    Action.REQUEST_JOINT_REVIEW: (
        "Ask two departments to review jointly",
        {"co_department_codes": ["zrghj", "zjj"], "note": "涉及规划调整和施工许可，需自然资源和住建部门联合会办。"},
    ),
    Action.CONTRIBUTE: (
        "A co-department's part",
        {"note": "规划部门意见：同意按程序办理规划条件调整，约需20个工作日。"},
    ),
    Action.ESCALATE: ("Refer to leadership", {"note": "超期未办结，提请分管市领导协调。"}),
    Action.RETURN: ("Not ours: back to dispatch", {"reason": "该事项属于税务部门职责，建议转市税务局办理。"}),
    Action.TRANSFER: (
        "Send to the tax bureau",
        {"department_code": "swuj", "reason": "涉及出口退税办理，属税务部门职责。"},
    ),
    Action.WITHDRAW: ("Withdrawn by the enterprise", {"reason": "问题已自行解决，撤回诉求。"}),
    Action.CLOSE: ("Close", {}),
    Action.REOPEN: ("Reopen: not solved", {"reason": "供电公司仍未安排接电，问题没有实际解决。"}),
}


def action_examples(action: Action) -> Examples:
    """The example body of one ticket action."""
    summary, value = _ACTION_VALUES[action]
    return {action.value.replace("-", "_"): {"summary": summary, "value": value}}


ADJUDICATION: Examples = {
    "unreasonable_demand": {
        "summary": "A rating ruled unreasonable",
        "description": "The enterprise rated unsatisfied because a subsidy it does not qualify for was refused.",
        "value": {
            "reason": (
                "企业不满意的原因是未获批研发费用补贴，经核查其不符合《镇江市科技创新券管理办法》"
                "申报条件，部门已书面说明，诉求不合理。"
            )
        },
    },
}
