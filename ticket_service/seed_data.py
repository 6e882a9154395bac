"""Development seed for the ticket service: the two demo enterprises.

Pure data: no I/O and no imports from other project modules. The companies and
people are fictitious; the credit codes are well-formed (GB 32100-2015 check
character, 镇江 administrative divisions) but belong to no real entity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

EnterpriseSize = Literal["large", "medium", "small", "micro"]


@dataclass(frozen=True, kw_only=True, slots=True)
class EnterpriseSeed:
    key: str
    name: str
    credit_code: str
    size: EnterpriseSize
    taiwan_funded: bool
    industry: str
    park: str
    contact_name: str
    contact_phone: str


ENTERPRISES: Final[list[EnterpriseSeed]] = [
    EnterpriseSeed(
        key="enterprise-1",
        name="镇江台丰精密机械有限公司",
        # 9 market regulation, 1 enterprise, 321191 镇江新区 (经济技术开发区)
        credit_code="91321191608263458Y",
        size="small",
        taiwan_funded=True,
        industry="通用设备制造业（精密机械零部件）",
        park="镇江经济技术开发区",
        contact_name="林志明",
        contact_phone="13952857316",
    ),
    EnterpriseSeed(
        key="enterprise-2",
        name="江苏金山湖新材料股份有限公司",
        # 9 market regulation, 1 enterprise, 321112 丹徒区
        credit_code="913211127287031630",
        size="large",
        taiwan_funded=False,
        industry="化学原料和化学制品制造业（高性能复合材料）",
        park="镇江高新技术产业开发区",
        contact_name="王建国",
        contact_phone="18905284127",
    ),
]
