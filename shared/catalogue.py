"""The catalogue of services and skills from the contract (CONTRACT.md section 4)."""
from types import MappingProxyType

SKILLS = frozenset({
    "cleaning", "cooking", "companionship", "medical", "nursing", "legal", "counseling",
    "employment", "policy", "digital", "tutoring", "childcare", "patrol", "cleanup",
    "performance", "mediation",
})

# code -> (中文 name, skills the service needs)
SERVICES = MappingProxyType({
    "elder_care.cleaning": ("助洁", ("cleaning",)),
    "elder_care.meals": ("助餐", ("cooking",)),
    "elder_care.companionship": ("精神陪伴", ("companionship",)),
    "elder_care.home_visit": ("上门走访/慰问探访", ("companionship",)),
    "health.checkup": ("义诊/健康检查", ("medical",)),
    "health.rehab": ("医疗康复", ("medical", "nursing")),
    "legal.consultation": ("法律咨询/法律援助", ("legal",)),
    "psych.counseling": ("心理疏导", ("counseling",)),
    "employment.guidance": ("就业指导/技能培训", ("employment",)),
    "policy.explanation": ("政策解读(医保等)", ("policy",)),
    "digital.assistance": ("手机操作/参保登记教学", ("digital",)),
    "child.tutoring": ("课业指导", ("tutoring",)),
    "child.care": ("关爱未成年人", ("childcare",)),
    "safety.patrol": ("义务巡逻", ("patrol",)),
    "environment.cleanup": ("楼道清理/垃圾分类", ("cleanup",)),
    "culture.activity": ("文艺活动", ("performance",)),
    "housekeeping": ("家政照料", ("cleaning", "cooking")),
})

BENEFICIARY_TAGS = frozenset({
    "living_alone", "empty_nest", "left_behind_child", "disabled", "severely_disabled",
    "special_hardship", "elderly", "child", "woman_in_difficulty",
})


# Mediation is for cases only, not a request category; events about a case carry it as their category.
MEDIATION = ("mediation", "矛盾纠纷调解")


def service_name(code: str) -> str:
    return MEDIATION[1] if code == MEDIATION[0] else SERVICES[code][0]


def skills_for(code: str) -> tuple[str, ...]:
    return SERVICES[code][1]
