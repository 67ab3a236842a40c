//! Word lists: which way an indicator should move, comparator words, unit words.

use healthplan_core::{Cmp, Direction};

/// Name endings of indicators where more is better, checked before the lower-is-better list
/// (`死亡率` is bad, but a `死因监测覆盖率` is good).
const HIGHER_ENDINGS: &[&str] = &[
    "管理率",
    "控制率",
    "覆盖率",
    "知晓率",
    "达标率",
    "合格率",
    "检测率",
    "监测率",
    "申报率",
    "接种率",
    "筛查率",
    "处理率",
    "治疗率",
    "治愈率",
    "随访率",
    "发现率",
    "优良率",
    "素养水平",
    "预期寿命",
    "期望寿命",
    "生存率",
    "开课率",
    "开放率",
    "参与率",
    "报告率",
    "满意度",
    "达成率",
];

/// Things a plan wants to go down: deaths, disease, risk behaviour, costs borne by patients.
const LOWER_WORDS: &[&str] = &[
    "死亡率",
    "病死率",
    "死亡人数",
    "死亡数",
    "发病率",
    "患病率",
    "感染率",
    "流行率",
    "罹患率",
    "吸烟率",
    "吸烟",
    "饮酒率",
    "肥胖",
    "超重",
    "近视",
    "贫血",
    "生长迟缓",
    "低体重",
    "消瘦",
    "个人卫生支出",
    "自付",
    "费用占",
    "费用比",
    "支出占",
    "负担",
    "尘肺",
    "新发",
    "伤害",
    "事故",
    "中毒",
    "残疾率",
    "失能",
    "漏诊",
    "误诊",
    "耐药",
    "超标",
    "复发率",
    "再入院",
    "等待时间",
    "发生率",
    "增长率",
];

pub fn direction_of(name: &str) -> Direction {
    let n: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    if HIGHER_ENDINGS.iter().any(|w| n.ends_with(w)) {
        return Direction::Higher;
    }
    if LOWER_WORDS.iter().any(|w| n.contains(w)) {
        return Direction::Lower;
    }
    Direction::Higher
}

/// Whether the name itself says which way the indicator should move (a word of either list).
pub fn direction_known(name: &str) -> bool {
    let n: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    HIGHER_ENDINGS.iter().any(|w| n.ends_with(w)) || LOWER_WORDS.iter().any(|w| n.contains(w))
}

/// The comparator a bare value implies for an indicator going in `d`.
pub fn bare_cmp(d: Direction) -> Cmp {
    match d {
        Direction::Lower => Cmp::Le,
        _ => Cmp::Ge,
    }
}

/// Comparator words written before a value, longest first. `None` marks a bare-value verb
/// (达到, 提高到 …), whose comparator follows the indicator's direction.
pub const PREFIX_WORDS: &[(&str, Option<Cmp>)] = &[
    ("控制在", Some(Cmp::Le)),
    ("不低于", Some(Cmp::Ge)),
    ("不少于", Some(Cmp::Ge)),
    ("不小于", Some(Cmp::Ge)),
    ("不超过", Some(Cmp::Le)),
    ("不高于", Some(Cmp::Le)),
    ("不大于", Some(Cmp::Le)),
    ("不多于", Some(Cmp::Le)),
    ("提高到", None),
    ("提高至", None),
    ("提升到", None),
    ("提升至", None),
    ("增加到", None),
    ("增加至", None),
    ("增长到", None),
    ("增长至", None),
    ("降低到", None),
    ("降低至", None),
    ("下降到", None),
    ("下降至", None),
    ("减少到", None),
    ("减少至", None),
    ("保持在", None),
    ("稳定在", None),
    ("达到", None),
    ("超过", Some(Cmp::Gt)),
    ("高于", Some(Cmp::Gt)),
    ("大于", Some(Cmp::Gt)),
    ("低于", Some(Cmp::Lt)),
    ("少于", Some(Cmp::Lt)),
    ("小于", Some(Cmp::Lt)),
    ("至少", Some(Cmp::Ge)),
    ("不少", Some(Cmp::Ge)),
    ("降到", None),
    ("降至", None),
    ("升至", None),
    ("≥", Some(Cmp::Ge)),
    (">=", Some(Cmp::Ge)),
    ("≤", Some(Cmp::Le)),
    ("<=", Some(Cmp::Le)),
    ("＞", Some(Cmp::Gt)),
    (">", Some(Cmp::Gt)),
    ("＜", Some(Cmp::Lt)),
    ("<", Some(Cmp::Lt)),
    ("达", None),
    ("为", None),
    ("有", None),
];

/// Verbs of a relative change (`下降30%`, `提高10%`); the sign of the change.
pub const CHANGE_WORDS: &[(&str, f64)] = &[
    ("提高", 1.0),
    ("提升", 1.0),
    ("增长", 1.0),
    ("增加", 1.0),
    ("上升", 1.0),
    ("降低", -1.0),
    ("下降", -1.0),
    ("减少", -1.0),
    ("减低", -1.0),
];

/// Comparator words written after a value, longest first.
pub const SUFFIX_WORDS: &[(&str, Cmp)] = &[
    ("及以上", Cmp::Ge),
    ("以上", Cmp::Ge),
    ("及以下", Cmp::Le),
    ("以内", Cmp::Le),
    ("以下", Cmp::Lt),
    ("左右", Cmp::Eq),
];

/// Units written right after a number, longest first. The second item is the unit as stored.
pub const UNITS: &[(&str, &str)] = &[
    ("个百分点", "个百分点"),
    ("/10万", "1/10万"),
    ("/ 10万", "1/10万"),
    ("/10 万", "1/10万"),
    ("/万", "1/万"),
    ("/千", "1/千"),
    ("平方米", "平方米"),
    ("万人次", "万人次"),
    ("万人", "万人"),
    ("万元", "万元"),
    ("亿元", "亿元"),
    ("小时", "小时"),
    ("分钟", "分钟"),
    ("人次", "人次"),
    ("m²", "m²"),
    ("m2", "m2"),
    ("㎡", "㎡"),
    ("%", "%"),
    ("％", "%"),
    ("‰", "‰"),
    ("岁", "岁"),
    ("张", "张"),
    ("人", "人"),
    ("名", "名"),
    ("个", "个"),
    ("家", "家"),
    ("项", "项"),
    ("所", "所"),
    ("座", "座"),
    ("辆", "辆"),
    ("床", "床"),
    ("次", "次"),
    ("天", "天"),
    ("级", "级"),
    ("支", "支"),
    ("台", "台"),
    ("间", "间"),
    ("条", "条"),
    ("批", "批"),
    ("套", "套"),
    ("倍", "倍"),
    ("元", "元"),
];

/// Traditional characters of the words the extractors look for, with their simplified forms.
/// Both are three bytes in UTF-8, so a text read through [`simplified`] keeps every offset.
const TRADITIONAL: &[(char, char)] = &[
    ('達', '达'),
    ('於', '于'),
    ('過', '过'),
    ('長', '长'),
    ('減', '减'),
    ('穩', '稳'),
    ('內', '内'),
    ('歲', '岁'),
    ('項', '项'),
    ('個', '个'),
    ('張', '张'),
    ('間', '间'),
    ('條', '条'),
    ('臺', '台'),
    ('輛', '辆'),
    ('萬', '万'),
    ('億', '亿'),
    ('為', '为'),
    ('從', '从'),
    ('將', '将'),
    ('實', '实'),
    ('現', '现'),
    ('與', '与'),
    ('別', '别'),
    ('較', '较'),
    ('級', '级'),
    ('礎', '础'),
    ('點', '点'),
    ('壽', '寿'),
    ('預', '预'),
    ('結', '结'),
    ('標', '标'),
    ('準', '准'),
    ('質', '质'),
    ('數', '数'),
    ('幹', '干'),
    ('僅', '仅'),
    ('並', '并'),
    ('務', '务'),
    ('計', '计'),
    ('劃', '划'),
    ('報', '报'),
    ('統', '统'),
    ('開', '开'),
    ('組', '组'),
    ('織', '织'),
    ('舉', '举'),
    ('辦', '办'),
    ('動', '动'),
    ('區', '区'),
    ('縣', '县'),
    ('鎮', '镇'),
    ('鄉', '乡'),
    ('門', '门'),
    ('衛', '卫'),
    ('發', '发'),
    ('設', '设'),
    ('機', '机'),
    ('構', '构'),
    ('醫', '医'),
    ('療', '疗'),
    ('兒', '儿'),
    ('嬰', '婴'),
    ('產', '产'),
    ('婦', '妇'),
    ('處', '处'),
    ('體', '体'),
    ('養', '养'),
    ('齡', '龄'),
    ('製', '制'),
    ('勵', '励'),
    ('業', '业'),
];

/// `text` with the traditional characters of [`TRADITIONAL`] simplified, char for char.
pub fn simplified(text: &str) -> String {
    text.chars()
        .map(|c| {
            TRADITIONAL
                .iter()
                .find(|(t, _)| *t == c)
                .map_or(c, |(_, s)| *s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_text_keeps_its_offsets() {
        let t = "人均預期壽命將達到80.5歲";
        let s = simplified(t);
        assert_eq!(s, "人均预期寿命将达到80.5岁");
        assert_eq!(s.len(), t.len());
        assert!(TRADITIONAL
            .iter()
            .all(|(a, b)| a.len_utf8() == 3 && b.len_utf8() == 3));
    }

    #[test]
    fn directions() {
        assert_eq!(direction_of("婴儿死亡率"), Direction::Lower);
        assert_eq!(
            direction_of("个人卫生支出占卫生总费用的比重"),
            Direction::Lower
        );
        assert_eq!(direction_of("15岁以上人群吸烟率"), Direction::Lower);
        assert_eq!(direction_of("高血压患者规范管理率"), Direction::Higher);
        assert_eq!(direction_of("人均预期寿命"), Direction::Higher);
    }
}
