"""Development seed for the catalog: departments, categories, policies and the
first edition of the enterprise-service menu of 镇江市 (Zhenjiang).

Pure data: no I/O and no imports from other project modules. The menu follows
the 2016 report: the municipal Economic and Information Commission (市经信委)
reviewed the supporting policies issued since 2015 and published a first menu of
50 service items in 8 categories, handled by the 36 municipal departments that
joined the "965808" platform.

The names of departments, categories and items are realistic but this is demo
data: phone numbers are invented, and the document numbers of the provincial
and municipal policies are illustrative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

EnterpriseSize = Literal["large", "medium", "small", "micro"]
PolicyLevel = Literal["national", "provincial", "municipal"]

ALL_SIZES: Final[tuple[EnterpriseSize, ...]] = ("large", "medium", "small", "micro")
SMALL_AND_MICRO: Final[tuple[EnterpriseSize, ...]] = ("small", "micro")
LARGE_AND_MEDIUM: Final[tuple[EnterpriseSize, ...]] = ("large", "medium")
SME_SIZES: Final[tuple[EnterpriseSize, ...]] = ("medium", "small", "micro")

#: SLA profiles are "accept-resolve-final" in working days (the 1-3-5 rule).
SLA_DEFAULT: Final[str] = "1-3-5"
SLA_SIMPLE_APPROVAL: Final[str] = "1-2-5"
SLA_COMPLEX_APPROVAL: Final[str] = "1-5-10"


@dataclass(frozen=True, kw_only=True, slots=True)
class DepartmentSeed:
    code: str
    name: str
    short_name: str
    phone: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CategorySeed:
    code: str
    name: str
    description: str
    sort_order: int
    default_co_department_codes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class PolicySeed:
    code: str
    title: str
    level: PolicyLevel
    issuer: str
    document_number: str
    issued_on: str
    summary: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ItemSeed:
    code: str
    title: str
    description: str
    category_code: str
    lead_department_code: str
    co_department_codes: tuple[str, ...] = ()
    eligible_sizes: tuple[EnterpriseSize, ...] = ALL_SIZES
    required_materials: tuple[str, ...]
    policy_codes: tuple[str, ...] = ()
    sla_profile: str = SLA_DEFAULT


@dataclass(frozen=True, kw_only=True, slots=True)
class MenuEditionSeed:
    code: str
    title: str
    published_on: str
    item_codes: tuple[str, ...]


# ---------------------------------------------------------------------------
# Departments (36 municipal bodies on the platform)
# ---------------------------------------------------------------------------

DEPARTMENTS: Final[list[DepartmentSeed]] = [
    DepartmentSeed(code="fgw", name="市发展和改革委员会", short_name="市发改委", phone="0511-84422061"),
    DepartmentSeed(code="jxw", name="市经济和信息化委员会", short_name="市经信委", phone="0511-84432158"),
    DepartmentSeed(code="kjj", name="市科学技术局", short_name="市科技局", phone="0511-84436725"),
    DepartmentSeed(code="czj", name="市财政局", short_name="市财政局", phone="0511-84421540"),
    DepartmentSeed(code="rsj", name="市人力资源和社会保障局", short_name="市人社局", phone="0511-85013362"),
    DepartmentSeed(code="zrghj", name="市自然资源和规划局", short_name="市自然资源规划局", phone="0511-85022817"),
    DepartmentSeed(code="sthjj", name="市生态环境局", short_name="市生态环境局", phone="0511-85023406"),
    DepartmentSeed(code="zjj", name="市住房和城乡建设局", short_name="市住建局", phone="0511-84436081"),
    DepartmentSeed(code="swj", name="市商务局", short_name="市商务局", phone="0511-84426233"),
    DepartmentSeed(code="scjgj", name="市市场监督管理局", short_name="市市场监管局", phone="0511-85027150"),
    DepartmentSeed(code="swuj", name="市税务局", short_name="市税务局", phone="0511-85021266"),
    DepartmentSeed(code="tb", name="市台湾事务办公室", short_name="市台办", phone="0511-84425317"),
    DepartmentSeed(code="xzspj", name="市行政审批局", short_name="市审批局", phone="0511-88908012"),
    DepartmentSeed(code="jrjgj", name="市地方金融监督管理局", short_name="市金融监管局", phone="0511-84428576"),
    DepartmentSeed(code="jyj", name="市教育局", short_name="市教育局", phone="0511-85011493"),
    DepartmentSeed(code="gaj", name="市公安局", short_name="市公安局", phone="0511-84426110"),
    DepartmentSeed(code="sfj", name="市司法局", short_name="市司法局", phone="0511-84424638"),
    DepartmentSeed(code="jtysj", name="市交通运输局", short_name="市交通运输局", phone="0511-84423827"),
    DepartmentSeed(code="slj", name="市水利局", short_name="市水利局", phone="0511-84427016"),
    DepartmentSeed(code="nyncj", name="市农业农村局", short_name="市农业农村局", phone="0511-85015248"),
    DepartmentSeed(code="wglj", name="市文化广电和旅游局", short_name="市文广旅局", phone="0511-85023970"),
    DepartmentSeed(code="wjw", name="市卫生健康委员会", short_name="市卫健委", phone="0511-84437622"),
    DepartmentSeed(code="yjglj", name="市应急管理局", short_name="市应急局", phone="0511-84438350"),
    DepartmentSeed(code="tjj", name="市统计局", short_name="市统计局", phone="0511-84429183"),
    DepartmentSeed(code="sjj", name="市审计局", short_name="市审计局", phone="0511-84430627"),
    DepartmentSeed(
        code="gzw",
        name="市人民政府国有资产监督管理委员会",
        short_name="市国资委",
        phone="0511-84431705",
    ),
    DepartmentSeed(code="cgj", name="市城市管理局", short_name="市城管局", phone="0511-85016339"),
    DepartmentSeed(code="mzj", name="市民政局", short_name="市民政局", phone="0511-84427461"),
    DepartmentSeed(code="wb", name="市人民政府外事办公室", short_name="市外办", phone="0511-84425802"),
    DepartmentSeed(code="rfb", name="市人民防空办公室", short_name="市人防办", phone="0511-84433148"),
    DepartmentSeed(code="ybj", name="市医疗保障局", short_name="市医保局", phone="0511-85028714"),
    DepartmentSeed(code="xfj", name="市信访局", short_name="市信访局", phone="0511-84424496"),
    DepartmentSeed(code="lsj", name="市粮食和物资储备局", short_name="市粮储局", phone="0511-84429657"),
    DepartmentSeed(code="zjhg", name="镇江海关", short_name="镇江海关", phone="0511-88802231"),
    DepartmentSeed(code="szfb", name="市人民政府办公室", short_name="市政府办", phone="0511-84421003"),
    DepartmentSeed(code="tyjrj", name="市退役军人事务局", short_name="市退役军人局", phone="0511-85029531"),
]


# ---------------------------------------------------------------------------
# Categories (8)
# ---------------------------------------------------------------------------

CATEGORIES: Final[list[CategorySeed]] = [
    CategorySeed(
        code="tech-innovation",
        name="科技创新",
        description="高新技术企业培育、研发费用加计扣除、研发机构建设、科技成果转化与知识产权等科技创新支持。",
        sort_order=1,
        default_co_department_codes=("kjj", "swuj", "czj"),
    ),
    CategorySeed(
        code="tech-transformation",
        name="技术改造",
        description="工业技术改造项目备案、专项资金申报、智能制造与两化融合、首台（套）装备等技术改造支持。",
        sort_order=2,
        default_co_department_codes=("jxw", "fgw", "czj"),
    ),
    CategorySeed(
        code="green-energy",
        name="绿色节能",
        description="节能技术改造、能源审计、清洁生产、节能审查与环评、合同能源管理等绿色低碳发展服务。",
        sort_order=3,
        default_co_department_codes=("jxw", "fgw", "sthjj"),
    ),
    CategorySeed(
        code="finance",
        name="金融服务",
        description="贷款贴息、政府性融资担保、转贷应急资金、银企对接、上市培育及小微企业财税优惠等融资支持（银企对接）。",
        sort_order=4,
        default_co_department_codes=("jrjgj", "czj", "jxw"),
    ),
    CategorySeed(
        code="power-energy",
        name="电力能源保障",
        description="用电报装与增容协调、电力直接交易、有序用电、天然气供应和分布式光伏等能源要素保障（电企对接）。",
        sort_order=5,
        default_co_department_codes=("jxw", "fgw"),
    ),
    CategorySeed(
        code="talent-cooperation",
        name="人才与产学研合作",
        description="高层次人才引进、职工技能培训、就业补贴以及高校院所与企业的产学研合作（校企对接）。",
        sort_order=6,
        default_co_department_codes=("rsj", "kjj", "jyj"),
    ),
    CategorySeed(
        code="market-expansion",
        name="市场开拓与商贸",
        description="出口信用保险、展会补贴、两岸经贸对接、通关便利化、电子商务和本地产业链配套对接等市场开拓服务。",
        sort_order=7,
        default_co_department_codes=("swj", "zjhg", "tb"),
    ),
    CategorySeed(
        code="approval-services",
        name="审批与政务服务",
        description="企业开办、外资企业设立变更、建设项目规划与施工许可、用地与不动产登记等审批事项的帮办代办（政企对接）。",
        sort_order=8,
        default_co_department_codes=("xzspj", "zrghj", "zjj"),
    ),
]


# ---------------------------------------------------------------------------
# Policies (national, Jiangsu provincial, Zhenjiang municipal; 2015 or later)
# ---------------------------------------------------------------------------

POLICIES: Final[list[PolicySeed]] = [
    PolicySeed(
        code="POL-NAT-2015-01",
        title="国务院关于印发《中国制造2025》的通知",
        level="national",
        issuer="国务院",
        document_number="国发〔2015〕28号",
        issued_on="2015-05-08",
        summary="部署实施制造强国战略第一个十年行动纲领，推进智能制造、绿色制造、工业强基和高端装备创新。",
    ),
    PolicySeed(
        code="POL-NAT-2015-02",
        title="国务院关于大力推进大众创业万众创新若干政策措施的意见",
        level="national",
        issuer="国务院",
        document_number="国发〔2015〕32号",
        issued_on="2015-06-11",
        summary="从财税、金融、创业投资、人才流动和创业服务等方面支持大众创业、万众创新。",
    ),
    PolicySeed(
        code="POL-NAT-2015-03",
        title="中共中央 国务院关于进一步深化电力体制改革的若干意见",
        level="national",
        issuer="中共中央 国务院",
        document_number="中发〔2015〕9号",
        issued_on="2015-03-15",
        summary="有序放开输配以外的竞争性环节电价和配售电业务，推进电力直接交易，降低企业用电成本。",
    ),
    PolicySeed(
        code="POL-NAT-2015-04",
        title="国务院关于促进融资担保行业加快发展的意见",
        level="national",
        issuer="国务院",
        document_number="国发〔2015〕43号",
        issued_on="2015-08-07",
        summary="发展政府支持的融资担保和再担保机构，扩大小微企业和“三农”融资担保业务规模，降低担保费率。",
    ),
    PolicySeed(
        code="POL-NAT-2015-05",
        title="财政部 国家税务总局关于进一步扩大小型微利企业所得税优惠政策范围的通知",
        level="national",
        issuer="财政部 国家税务总局",
        document_number="财税〔2015〕99号",
        issued_on="2015-09-02",
        summary="年应纳税所得额30万元以下的小型微利企业，其所得减按50%计入应纳税所得额，按20%的税率缴纳企业所得税。",
    ),
    PolicySeed(
        code="POL-NAT-2015-06",
        title="财政部 国家税务总局 科技部关于完善研究开发费用税前加计扣除政策的通知",
        level="national",
        issuer="财政部 国家税务总局 科技部",
        document_number="财税〔2015〕119号",
        issued_on="2015-11-02",
        summary="扩大研发费用加计扣除的适用范围，简化核算与备案管理，自2016年1月1日起执行。",
    ),
    PolicySeed(
        code="POL-NAT-2015-07",
        title="财政部 国家税务总局关于进一步完善固定资产加速折旧企业所得税政策的通知",
        level="national",
        issuer="财政部 国家税务总局",
        document_number="财税〔2015〕106号",
        issued_on="2015-09-17",
        summary="将固定资产加速折旧优惠扩大到轻工、纺织、机械、汽车等四个领域重点行业，鼓励企业技术改造和设备更新。",
    ),
    PolicySeed(
        code="POL-NAT-2016-01",
        title="科技部 财政部 国家税务总局关于修订印发《高新技术企业认定管理办法》的通知",
        level="national",
        issuer="科技部 财政部 国家税务总局",
        document_number="国科发火〔2016〕32号",
        issued_on="2016-01-29",
        summary="修订高新技术企业认定条件和程序，调整研发费用占比和科技人员比例要求，认定企业享受15%企业所得税优惠税率。",
    ),
    PolicySeed(
        code="POL-PRV-2015-01",
        title="江苏省人民政府关于进一步做好新形势下就业创业工作的意见",
        level="provincial",
        issuer="江苏省人民政府",
        document_number="苏政发〔2015〕90号",
        issued_on="2015-08-13",
        summary="落实就业创业扶持政策，对小微企业吸纳高校毕业生、职工技能培训和创业担保贷款给予补贴。",
    ),
    PolicySeed(
        code="POL-PRV-2015-02",
        title="江苏省工业和信息产业转型升级专项引导资金管理办法",
        level="provincial",
        issuer="江苏省财政厅 江苏省经济和信息化委员会",
        document_number="苏财规〔2015〕12号",
        issued_on="2015-05-20",
        summary="以补助、贴息和奖励方式支持企业技术改造、节能与循环经济、两化融合和首台（套）装备推广应用。",
    ),
    PolicySeed(
        code="POL-MUN-2015-01",
        title="镇江市人民政府关于印发《中国制造2025镇江行动纲要》的通知",
        level="municipal",
        issuer="镇江市人民政府",
        document_number="镇政发〔2015〕38号",
        issued_on="2015-10-20",
        summary="推动全市制造业向中高端攀升，重点推进智能制造、技术改造、绿色发展和先进制造业园区建设。",
    ),
    PolicySeed(
        code="POL-MUN-2015-02",
        title="镇江市人民政府办公室关于进一步加强小微企业金融服务的实施意见",
        level="municipal",
        issuer="镇江市人民政府办公室",
        document_number="镇政办发〔2015〕126号",
        issued_on="2015-07-15",
        summary="设立转贷应急资金，对小微企业贷款给予贴息和风险补偿，推进银企对接与政府性融资担保。",
    ),
    PolicySeed(
        code="POL-MUN-2016-01",
        title="镇江市人民政府关于进一步促进台资企业发展的若干意见",
        level="municipal",
        issuer="镇江市人民政府",
        document_number="镇政发〔2016〕6号",
        issued_on="2016-01-25",
        summary="从转型升级、融资支持、市场开拓、人才引进和服务保障等方面支持台资企业在镇发展，打造台商发展“第一福地”。",
    ),
]


# ---------------------------------------------------------------------------
# Service items: the first menu (50 items in 8 categories)
# ---------------------------------------------------------------------------

ITEMS: Final[list[ItemSeed]] = [
    # 科技创新 (tech-innovation) -------------------------------------------
    ItemSeed(
        code="KJ-001",
        title="高新技术企业认定辅导",
        description="对照新修订的认定管理办法评估企业条件，指导准备申报材料并跟踪认定进度。认定后可享受15%的企业所得税优惠税率。",
        category_code="tech-innovation",
        lead_department_code="kjj",
        co_department_codes=("swuj", "czj"),
        required_materials=("高新技术企业认定申请书", "近三个会计年度财务审计报告", "知识产权证明材料"),
        policy_codes=("POL-NAT-2016-01",),
    ),
    ItemSeed(
        code="KJ-002",
        title="研发费用税前加计扣除政策辅导",
        description="讲解研发费用归集范围和辅助账设置，指导企业在汇算清缴时办理加计扣除备案。",
        category_code="tech-innovation",
        lead_department_code="swuj",
        co_department_codes=("kjj",),
        required_materials=("研发项目立项文件", "研发费用辅助账"),
        policy_codes=("POL-NAT-2015-06",),
    ),
    ItemSeed(
        code="KJ-003",
        title="科技型中小企业培育入库",
        description="帮助科技型中小企业完成评价入库，纳入市级科技企业培育库，优先推荐各类科技计划项目。",
        category_code="tech-innovation",
        lead_department_code="kjj",
        eligible_sizes=SME_SIZES,
        required_materials=("企业基本情况表", "上年度财务报表"),
        policy_codes=("POL-NAT-2016-01",),
    ),
    ItemSeed(
        code="KJ-004",
        title="企业研发机构建设支持",
        description="支持企业建设工程技术研究中心、企业技术中心等研发机构，指导申报市级以上认定并落实建设奖励。",
        category_code="tech-innovation",
        lead_department_code="kjj",
        co_department_codes=("jxw", "fgw"),
        required_materials=("研发机构建设方案", "研发人员名单及资质证明", "研发设备清单"),
        policy_codes=("POL-NAT-2015-02",),
    ),
    ItemSeed(
        code="KJ-005",
        title="科技成果转化项目申报",
        description="梳理企业可转化的科技成果，指导申报省、市科技成果转化专项资金项目。",
        category_code="tech-innovation",
        lead_department_code="kjj",
        co_department_codes=("czj",),
        required_materials=("项目可行性研究报告", "成果鉴定或专利证明", "资金筹措证明"),
        policy_codes=("POL-NAT-2015-02",),
    ),
    ItemSeed(
        code="KJ-006",
        title="专利申请资助与知识产权贯标",
        description="为企业专利申请、PCT国际申请提供资助，并辅导企业开展知识产权管理规范贯标。",
        category_code="tech-innovation",
        lead_department_code="scjgj",
        co_department_codes=("kjj",),
        required_materials=("专利受理通知书或授权证书", "资助申请表"),
    ),
    ItemSeed(
        code="KJ-007",
        title="小微企业科技创新券",
        description="向小微企业发放科技创新券，用于购买高校院所的检验检测、技术咨询和研发设计服务。",
        category_code="tech-innovation",
        lead_department_code="kjj",
        co_department_codes=("czj",),
        eligible_sizes=SMALL_AND_MICRO,
        required_materials=("创新券申请表", "技术服务合同"),
        policy_codes=("POL-NAT-2015-02",),
    ),
    # 技术改造 (tech-transformation) ---------------------------------------
    ItemSeed(
        code="JG-001",
        title="工业企业技术改造项目备案",
        description="受理工业企业技术改造投资项目备案，指导填报项目信息，符合条件的当场或限时出具备案通知书。",
        category_code="tech-transformation",
        lead_department_code="jxw",
        co_department_codes=("fgw",),
        required_materials=("技术改造项目备案申请表", "项目情况说明"),
        policy_codes=("POL-MUN-2015-01",),
        sla_profile=SLA_SIMPLE_APPROVAL,
    ),
    ItemSeed(
        code="JG-002",
        title="工业转型升级专项资金申报",
        description="辅导企业申报省、市工业和信息产业转型升级专项引导资金，对技术改造项目给予补助或贴息。",
        category_code="tech-transformation",
        lead_department_code="jxw",
        co_department_codes=("czj",),
        required_materials=("专项资金申请报告", "项目备案文件", "设备购置发票及合同"),
        policy_codes=("POL-PRV-2015-02", "POL-NAT-2015-01"),
    ),
    ItemSeed(
        code="JG-003",
        title="智能制造示范车间认定",
        description="指导企业按照智能制造标准开展车间、工厂智能化改造，申报省、市智能制造示范车间认定。",
        category_code="tech-transformation",
        lead_department_code="jxw",
        co_department_codes=("kjj",),
        eligible_sizes=LARGE_AND_MEDIUM,
        required_materials=("示范车间申报书", "智能化改造实施情况报告", "主要智能装备清单"),
        policy_codes=("POL-NAT-2015-01", "POL-MUN-2015-01"),
    ),
    ItemSeed(
        code="JG-004",
        title="首台（套）重大装备认定及保险补偿",
        description="帮助装备制造企业申报首台（套）重大装备认定，并落实首台（套）装备综合保险补偿。",
        category_code="tech-transformation",
        lead_department_code="jxw",
        co_department_codes=("czj",),
        eligible_sizes=LARGE_AND_MEDIUM,
        required_materials=("首台（套）认定申请书", "产品检测报告", "用户使用证明"),
        policy_codes=("POL-NAT-2015-01", "POL-PRV-2015-02"),
    ),
    ItemSeed(
        code="JG-005",
        title="两化融合管理体系贯标辅导",
        description="组织服务机构上门诊断，辅导企业开展信息化和工业化融合管理体系贯标和评定。",
        category_code="tech-transformation",
        lead_department_code="jxw",
        required_materials=("两化融合贯标申请表", "企业信息化现状说明"),
        policy_codes=("POL-NAT-2015-01",),
    ),
    ItemSeed(
        code="JG-006",
        title="鼓励类项目进口设备免税确认",
        description="对符合鼓励类条目的内外资项目，协助办理项目确认书，享受进口自用设备免征关税政策。",
        category_code="tech-transformation",
        lead_department_code="fgw",
        co_department_codes=("zjhg", "swj"),
        required_materials=("项目确认申请报告", "进口设备清单", "项目核准或备案文件"),
    ),
    ItemSeed(
        code="JG-007",
        title="固定资产加速折旧政策辅导",
        description="讲解固定资产加速折旧和一次性扣除的适用行业和条件，指导企业在纳税申报中享受优惠。",
        category_code="tech-transformation",
        lead_department_code="swuj",
        co_department_codes=("jxw",),
        required_materials=("固定资产购置发票", "固定资产台账"),
        policy_codes=("POL-NAT-2015-07",),
    ),
    # 绿色节能 (green-energy) ----------------------------------------------
    ItemSeed(
        code="LS-001",
        title="绿色节能技术改造补贴",
        description="对企业实施的节能降耗、余热余压利用和电机系统节能等技术改造项目，按节能量给予专项资金补贴。",
        category_code="green-energy",
        lead_department_code="jxw",
        co_department_codes=("fgw", "czj"),
        required_materials=("节能技改项目申报书", "项目备案文件", "第三方节能量审核报告"),
        policy_codes=("POL-PRV-2015-02", "POL-NAT-2015-01"),
    ),
    ItemSeed(
        code="LS-002",
        title="工业企业能源审计与节能诊断",
        description="组织专业机构为企业开展能源审计和节能诊断，提出节能改造方案和能效提升建议。",
        category_code="green-energy",
        lead_department_code="jxw",
        co_department_codes=("fgw",),
        required_materials=("近三年能源消费统计表", "主要用能设备清单"),
    ),
    ItemSeed(
        code="LS-003",
        title="固定资产投资项目节能审查",
        description="受理企业固定资产投资项目节能报告，组织专家评审并出具节能审查意见。",
        category_code="green-energy",
        lead_department_code="xzspj",
        co_department_codes=("fgw",),
        required_materials=("节能审查申请", "项目节能报告"),
        sla_profile=SLA_COMPLEX_APPROVAL,
    ),
    ItemSeed(
        code="LS-004",
        title="清洁生产审核服务",
        description="指导企业开展清洁生产审核，协助组织审核评估和验收，推动减污降耗。",
        category_code="green-energy",
        lead_department_code="sthjj",
        co_department_codes=("jxw",),
        required_materials=("清洁生产审核报告", "清洁生产方案实施情况说明"),
    ),
    ItemSeed(
        code="LS-005",
        title="建设项目环境影响评价审批",
        description="受理建设项目环境影响报告书（表）审批，提前介入指导，压缩审批时限。",
        category_code="green-energy",
        lead_department_code="sthjj",
        co_department_codes=("xzspj",),
        required_materials=("环境影响评价审批申请", "环境影响报告书（表）", "项目备案文件"),
        sla_profile=SLA_COMPLEX_APPROVAL,
    ),
    ItemSeed(
        code="LS-006",
        title="合同能源管理项目奖励",
        description="对采用合同能源管理方式实施的节能改造项目，按年节能量给予奖励。",
        category_code="green-energy",
        lead_department_code="fgw",
        co_department_codes=("czj", "jxw"),
        required_materials=("节能服务合同", "项目节能量审核报告"),
        policy_codes=("POL-PRV-2015-02",),
    ),
    ItemSeed(
        code="LS-007",
        title="排污许可证申领指导",
        description="指导企业按行业技术规范填报排污许可申请，协助完善污染治理设施和自行监测方案。",
        category_code="green-energy",
        lead_department_code="sthjj",
        required_materials=("排污许可证申请表", "自行监测方案"),
    ),
    # 金融服务 (finance) ---------------------------------------------------
    ItemSeed(
        code="JR-001",
        title="小微企业贷款贴息",
        description="对小微企业用于生产经营的银行贷款按实际支付利息给予一定比例贴息，降低融资成本。",
        category_code="finance",
        lead_department_code="czj",
        co_department_codes=("jrjgj", "jxw"),
        eligible_sizes=SMALL_AND_MICRO,
        required_materials=("贴息申请表", "借款合同", "利息支付凭证"),
        policy_codes=("POL-MUN-2015-02",),
    ),
    ItemSeed(
        code="JR-002",
        title="政府性融资担保服务",
        description="推荐小微企业对接市级政府性融资担保机构，享受低费率担保，缓解抵押物不足问题。",
        category_code="finance",
        lead_department_code="jrjgj",
        co_department_codes=("czj",),
        eligible_sizes=SMALL_AND_MICRO,
        required_materials=("担保申请书", "近一年财务报表", "银行授信意向书"),
        policy_codes=("POL-NAT-2015-04", "POL-MUN-2015-02"),
    ),
    ItemSeed(
        code="JR-003",
        title="转贷应急资金支持",
        description="为贷款即将到期、续贷资金周转困难的中小企业提供短期转贷应急资金，避免资金链断裂。",
        category_code="finance",
        lead_department_code="jxw",
        co_department_codes=("jrjgj", "czj"),
        eligible_sizes=SME_SIZES,
        required_materials=("转贷资金申请表", "原借款合同", "银行续贷承诺函"),
        policy_codes=("POL-MUN-2015-02",),
    ),
    ItemSeed(
        code="JR-004",
        title="银企对接与融资需求撮合",
        description="收集企业融资需求，组织银行、保险和融资租赁机构开展专场对接和上门服务。",
        category_code="finance",
        lead_department_code="jrjgj",
        co_department_codes=("jxw",),
        required_materials=("企业融资需求表",),
    ),
    ItemSeed(
        code="JR-005",
        title="企业上市培育辅导",
        description="将优质企业纳入上市后备资源库，协调解决股改和上市过程中的历史遗留问题，落实上市奖励。",
        category_code="finance",
        lead_department_code="jrjgj",
        co_department_codes=("czj", "scjgj"),
        eligible_sizes=LARGE_AND_MEDIUM,
        required_materials=("上市后备企业申报表", "近三年审计报告"),
    ),
    ItemSeed(
        code="JR-006",
        title="小型微利企业所得税优惠辅导",
        description="帮助企业判断是否符合小型微利企业条件，指导在预缴和汇算清缴时直接享受减半征税优惠。",
        category_code="finance",
        lead_department_code="swuj",
        eligible_sizes=SMALL_AND_MICRO,
        required_materials=("企业所得税申报表", "从业人数和资产总额说明"),
        policy_codes=("POL-NAT-2015-05",),
    ),
    ItemSeed(
        code="JR-007",
        title="科技型小微企业贷款风险补偿",
        description="对合作银行向科技型小微企业发放的信用贷款设立风险补偿资金池，帮助企业获得无抵押贷款。",
        category_code="finance",
        lead_department_code="kjj",
        co_department_codes=("czj", "jrjgj"),
        eligible_sizes=SMALL_AND_MICRO,
        required_materials=("贷款申请表", "科技型企业证明材料"),
        policy_codes=("POL-NAT-2015-02",),
    ),
    # 电力能源保障 (power-energy) ------------------------------------------
    ItemSeed(
        code="DL-001",
        title="电力直接交易准入申报",
        description="指导符合条件的用电企业申报电力直接交易准入，参与年度双边协商交易，降低用电成本。",
        category_code="power-energy",
        lead_department_code="jxw",
        co_department_codes=("fgw",),
        eligible_sizes=LARGE_AND_MEDIUM,
        required_materials=("电力用户准入申请表", "近一年用电量证明"),
        policy_codes=("POL-NAT-2015-03",),
    ),
    ItemSeed(
        code="DL-002",
        title="新装增容用电报装协调",
        description="协调供电企业为新建、扩建项目开辟用电报装绿色通道，缩短接电时间。",
        category_code="power-energy",
        lead_department_code="jxw",
        co_department_codes=("fgw", "zrghj"),
        required_materials=("用电报装申请", "项目备案或核准文件"),
        policy_codes=("POL-NAT-2015-03",),
    ),
    ItemSeed(
        code="DL-003",
        title="有序用电与错峰生产协调",
        description="在迎峰度夏、度冬期间合理安排企业有序用电方案，对重点企业和连续生产企业优先保障。",
        category_code="power-energy",
        lead_department_code="jxw",
        co_department_codes=("fgw",),
        required_materials=("企业用电负荷情况表",),
        policy_codes=("POL-NAT-2015-03",),
    ),
    ItemSeed(
        code="DL-004",
        title="工业用天然气供应保障协调",
        description="协调燃气企业落实工业用户用气计划和接入工程，处理供气价格和供应中断等问题。",
        category_code="power-energy",
        lead_department_code="fgw",
        co_department_codes=("zjj",),
        required_materials=("用气需求说明", "用气设备清单"),
    ),
    ItemSeed(
        code="DL-005",
        title="分布式光伏发电项目备案",
        description="受理企业屋顶分布式光伏发电项目备案，协调并网接入和补贴申报。",
        category_code="power-energy",
        lead_department_code="fgw",
        co_department_codes=("jxw",),
        required_materials=("项目备案申请表", "屋顶产权或租赁证明"),
        sla_profile=SLA_SIMPLE_APPROVAL,
    ),
    # 人才与产学研合作 (talent-cooperation) --------------------------------
    ItemSeed(
        code="RC-001",
        title="校企合作与产学研对接",
        description="根据企业技术难题对接江苏大学、江苏科技大学等高校院所，促成联合攻关和共建研发平台。",
        category_code="talent-cooperation",
        lead_department_code="kjj",
        co_department_codes=("jyj", "jxw"),
        required_materials=("技术需求表",),
        policy_codes=("POL-NAT-2015-02",),
    ),
    ItemSeed(
        code="RC-002",
        title="小微企业吸纳高校毕业生社会保险补贴",
        description="对招用毕业年度高校毕业生并缴纳社会保险的小微企业，按规定给予社会保险补贴。",
        category_code="talent-cooperation",
        lead_department_code="rsj",
        co_department_codes=("czj",),
        eligible_sizes=SMALL_AND_MICRO,
        required_materials=("补贴申请表", "劳动合同", "社会保险缴费明细"),
        policy_codes=("POL-PRV-2015-01", "POL-NAT-2015-02"),
    ),
    ItemSeed(
        code="RC-003",
        title="高层次人才引进计划申报",
        description="指导企业申报“金山英才”等人才计划，落实引进人才的项目资助、安家补贴和配套服务。",
        category_code="talent-cooperation",
        lead_department_code="rsj",
        co_department_codes=("kjj",),
        required_materials=("人才计划申报书", "人才学历和工作经历证明", "劳动合同"),
    ),
    ItemSeed(
        code="RC-004",
        title="企业职工技能培训补贴",
        description="支持企业开展岗前培训、岗位技能提升和新型学徒制培训，按取证人数给予培训补贴。",
        category_code="talent-cooperation",
        lead_department_code="rsj",
        co_department_codes=("czj",),
        required_materials=("培训计划", "培训人员花名册", "职业资格或技能等级证书"),
        policy_codes=("POL-PRV-2015-01",),
    ),
    ItemSeed(
        code="RC-005",
        title="台湾同胞来镇就业与证件办理协助",
        description="为台资企业引进的台湾员工协调办理就业手续、居留和出入境证件，协助解决子女入学等问题。",
        category_code="talent-cooperation",
        lead_department_code="tb",
        co_department_codes=("gaj", "rsj", "jyj"),
        required_materials=("台湾居民来往大陆通行证", "劳动合同"),
        policy_codes=("POL-MUN-2016-01",),
    ),
    ItemSeed(
        code="RC-006",
        title="企业研究生工作站建站申报",
        description="推动企业与高校合作设立研究生工作站，指导申报省级企业研究生工作站认定。",
        category_code="talent-cooperation",
        lead_department_code="jyj",
        co_department_codes=("kjj",),
        required_materials=("工作站建站申请表", "校企合作协议"),
    ),
    # 市场开拓与商贸 (market-expansion) ------------------------------------
    ItemSeed(
        code="SC-001",
        title="出口信用保险保费扶持",
        description="对投保出口信用保险的外贸企业给予保费补助，帮助企业防范收汇风险、开拓新兴市场。",
        category_code="market-expansion",
        lead_department_code="swj",
        co_department_codes=("czj",),
        required_materials=("出口信用保险保单", "保费支付凭证"),
    ),
    ItemSeed(
        code="SC-002",
        title="境内外重点展会参展补贴",
        description="对企业参加市商务部门认定的境内外重点展会给予展位费补贴，组织企业集中参展。",
        category_code="market-expansion",
        lead_department_code="swj",
        co_department_codes=("tb",),
        required_materials=("参展申请表", "展位费发票", "参展照片"),
    ),
    ItemSeed(
        code="SC-003",
        title="两岸经贸对接与台资企业产品内销",
        description="组织台资企业参加海峡两岸经贸交易会等活动，帮助台企产品对接本地采购商和内销渠道。",
        category_code="market-expansion",
        lead_department_code="tb",
        co_department_codes=("swj",),
        required_materials=("企业及产品介绍",),
        policy_codes=("POL-MUN-2016-01",),
    ),
    ItemSeed(
        code="SC-004",
        title="进出口通关便利化协调",
        description="协调海关为企业提供预约通关、提前申报和担保验放等便利措施，解决通关中的具体问题。",
        category_code="market-expansion",
        lead_department_code="zjhg",
        co_department_codes=("swj",),
        required_materials=("通关问题说明", "报关单或合同"),
    ),
    ItemSeed(
        code="SC-005",
        title="电子商务应用与跨境电商推广",
        description="指导企业入驻电商平台、开展跨境电子商务，对符合条件的电商应用项目给予扶持。",
        category_code="market-expansion",
        lead_department_code="swj",
        co_department_codes=("jxw",),
        required_materials=("电子商务应用项目申报表",),
    ),
    ItemSeed(
        code="SC-006",
        title="本地产业链配套对接",
        description="组织整机企业和本地零部件企业开展产销对接，帮助企业进入重点企业供应链。",
        category_code="market-expansion",
        lead_department_code="jxw",
        co_department_codes=("swj",),
        required_materials=("产品目录", "配套需求说明"),
        policy_codes=("POL-MUN-2015-01",),
    ),
    # 审批与政务服务 (approval-services) -----------------------------------
    ItemSeed(
        code="SP-001",
        title="企业开办一站式服务",
        description="将营业执照、公章刻制、税务登记和社保登记合并办理，一窗受理、限时办结。",
        category_code="approval-services",
        lead_department_code="scjgj",
        co_department_codes=("gaj", "swuj", "rsj"),
        required_materials=("公司登记申请书", "公司章程", "股东身份证明"),
        sla_profile=SLA_SIMPLE_APPROVAL,
    ),
    ItemSeed(
        code="SP-002",
        title="外商投资企业设立及变更备案",
        description="受理外商（含台港澳）投资企业设立和变更备案，指导填报备案信息并同步办理登记。",
        category_code="approval-services",
        lead_department_code="swj",
        co_department_codes=("scjgj",),
        required_materials=("外商投资企业备案申报表", "投资者主体资格证明"),
        policy_codes=("POL-MUN-2016-01",),
    ),
    ItemSeed(
        code="SP-003",
        title="建设工程规划许可与施工许可代办",
        description="为企业建设项目提供规划许可、施工图审查和施工许可全程代办，实行并联审批。",
        category_code="approval-services",
        lead_department_code="xzspj",
        co_department_codes=("zrghj", "zjj", "rfb"),
        required_materials=("建设工程规划许可申请表", "建设用地权属证明", "设计方案图纸"),
        sla_profile=SLA_COMPLEX_APPROVAL,
    ),
    ItemSeed(
        code="SP-004",
        title="工业项目用地与不动产登记协调",
        description="协调工业项目用地预审、供地手续和不动产首次登记，解决历史遗留的产权办证问题。",
        category_code="approval-services",
        lead_department_code="zrghj",
        co_department_codes=("xzspj", "zjj"),
        required_materials=("用地申请", "土地出让合同", "不动产登记申请书"),
        sla_profile=SLA_COMPLEX_APPROVAL,
    ),
    ItemSeed(
        code="SP-005",
        title="涉企审批事项全程帮办",
        description="为重点项目配备帮办专员，梳理审批清单，协调各部门并联办理涉企审批事项。",
        category_code="approval-services",
        lead_department_code="xzspj",
        required_materials=("项目基本情况表",),
        policy_codes=("POL-NAT-2015-02",),
    ),
]


# ---------------------------------------------------------------------------
# Menu editions
# ---------------------------------------------------------------------------

#: The first menu. The report says the Economic and Information Commission
#: published it in February 2016.
MENU_EDITION: Final[MenuEditionSeed] = MenuEditionSeed(
    code="2016-01",
    title="镇江市涉企服务菜单（第一批）",
    published_on="2016-02-26",
    item_codes=tuple(item.code for item in ITEMS),
)
