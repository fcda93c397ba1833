"""Reasons as data (shared/reasons.py): every code is worded in Chinese and English, the English
is the sentence the reasons always were, and what cannot be worded renders as None."""
import pytest

from shared.reasons import LEVELS, RULES, WORDING, Reason, language_of, rendered, text

MEALS = {"task": "elder_care.meals", "level": None, "places": ["c-north"]}
STREET_CASE = {"task": "case", "level": "street", "places": ["c-north", "c-south"]}
# One set of parameters per code, as matching decides them.
SAMPLES = {
    "nobody_able": {**MEALS, "failures": {"lacks_skill": 2, "paused": 1}},
    "short_staffed": {**MEALS, "failures": {"weekly_cap": 1}, "found": 1, "needed": 3},
    "not_reported": {"hours": 72.0, "volunteer": True},
    "no_agreement": {"level": "community"},
    "moved_up_by_staff": {"note": "双方情绪激动"},
    "not_needed": {"note": "居民已入住养老院"},
}


def test_every_code_has_a_sample_here():
    assert set(SAMPLES) == set(WORDING)


@pytest.mark.parametrize("code", sorted(WORDING))
def test_every_code_renders_in_chinese_and_in_english(code):
    chinese, english = text(code, SAMPLES[code], "zh"), text(code, SAMPLES[code], "en")
    assert chinese and english and chinese != english
    staff_words = SAMPLES[code].get("note", "")  # staff's own words stay as they wrote them
    assert english.replace(staff_words, "").isascii() and not chinese.replace(staff_words, "").isascii()
    assert "None" not in chinese + english
    assert Reason(code=code, params=SAMPLES[code]).fields() == {"reason": english, "reason_code": code,
                                                                 "reason_params": SAMPLES[code]}


# What matching said before reasons had codes (services/matching, before issue 15), for each case.
@pytest.mark.parametrize("code, params, sentence", [
    ("nobody_able", {**MEALS, "failures": {}},
     "no active volunteer in community c-north has every skill that elder_care.meals needs"),
    ("nobody_able", {**MEALS, "failures": {"lacks_skill": 2, "paused": 1}},
     "nobody in community c-north can take elder_care.meals: 2 lacks a needed skill, 1 paused"),
    # ties go in the order of the English words, as they did ("at the cap …" before "booked …")
    ("nobody_able", {**MEALS, "places": ["c-north", "c-south"], "failures": {"booked": 1, "open_cap": 1,
                                                                             "already_offered": 1}},
     "nobody in community c-north, c-south can take elder_care.meals: 1 already offered this task (declined, "
     "expired or pending), 1 at the cap of open assignments, 1 booked in an overlapping window"),
    ("nobody_able", {**STREET_CASE, "failures": {"not_available": 1}},
     "nobody in street level (c-north, c-south) can take the case: 1 not available in the window"),
    ("nobody_able", {**STREET_CASE, "level": "grid", "places": ["c-north"], "failures": {}},
     "no active volunteer in grid level (c-north) has every skill that the case needs"),
    ("short_staffed", {**MEALS, "failures": {"lacks_skill": 1}, "found": 2, "needed": 3},
     "found 2 of 3 volunteers; nobody in community c-north can take elder_care.meals: 1 lacks a needed skill"),
    ("not_reported", {"hours": 72.0}, "accepted but not reported done within 72 hours"),
    ("not_reported", {"hours": 1.5, "volunteer": True}, "a volunteer accepted but not reported done within 1.5 hours"),
    ("no_agreement", {"level": "grid"}, "no agreement at grid level"),
])
def test_the_english_is_the_sentence_matching_always_said(code, params, sentence):
    assert text(code, params, "en") == sentence == Reason(code=code, params=params).text("en")


@pytest.mark.parametrize("code, params, chinese", [
    ("nobody_able", {**MEALS, "failures": {"lacks_skill": 2, "paused": 1}},
     "社区 c-north 无人能接助餐(elder_care.meals):2人缺少所需技能、1人暂停服务"),
    ("nobody_able", {**STREET_CASE, "failures": {}}, "街道层级(c-north、c-south)没有具备该调解案件所需全部技能的在岗志愿者"),
    ("short_staffed", SAMPLES["short_staffed"], "只找到1/3名志愿者;社区 c-north 无人能接助餐(elder_care.meals):1人已达每周服务时长上限"),
    ("not_reported", {"hours": 72.0}, "志愿者接单后72小时内未报告完成"),
    ("no_agreement", {"level": "street"}, "街道调解未达成协议"),
    ("moved_up_by_staff", {}, "工作人员上报"),
    ("not_needed", {"note": "已入住"}, "无需服务:已入住"),
])
def test_staff_read_it_in_chinese(code, params, chinese):
    assert text(code, params, "zh") == chinese


def test_a_code_without_wording_renders_as_none_and_the_row_shows_its_words():
    assert text("from_a_newer_version", {}, "zh") is None and text(None, None) is None
    with pytest.raises(KeyError, match="from_a_newer_version"):
        Reason(code="from_a_newer_version").text()
    old = {"reason": "nobody could", "reason_code": None, "reason_params": None}
    assert rendered(old, "zh") == "nobody could"
    assert rendered({**old, "reason_code": "no_agreement", "reason_params": {"level": "grid"}}, "zh") == "网格调解未达成协议"


@pytest.mark.parametrize("code, params", [
    ("nobody_able", {"task": "elder_care.meals"}),  # places missing
    ("nobody_able", {**MEALS, "failures": ["lacks_skill"]}),  # failures not counts
    ("short_staffed", {**MEALS, "failures": {}}),  # found and needed missing
    ("not_reported", {"hours": "many"}),
    ("no_agreement", {}),
])
def test_parameters_it_cannot_be_worded_from_render_as_none(code, params):
    assert text(code, params, "zh") is None and text(code, params, "en") is None
    assert rendered({"reason": "words", "reason_code": code, "reason_params": params}) == "words"


def test_every_rule_and_level_is_worded_in_both_languages():
    for words in (*RULES.values(), *LEVELS.values()):
        english, chinese = words
        assert english.isascii() and chinese and not chinese.isascii()


def test_a_reader_s_language_is_chinese_unless_they_ask_for_english():
    assert [language_of(asked) for asked in ("en", "zh", None, "fr")] == ["en", "zh", "zh", "zh"]
    assert text("no_agreement", {"level": "grid"}, "fr") == "网格调解未达成协议"
