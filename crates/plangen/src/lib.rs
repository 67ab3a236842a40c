//! Random plan documents with their answers: a plan is composed from a grammar of the layouts
//! Chinese health plans use (indicator tables with merged cells and their header wordings,
//! responsible units in brackets, on the next line or in a task-allocation table, targets in the
//! prose), written as .txt and .docx through [`render`], and the gold answers (the format of
//! `fixtures/gold`) are written from the same choices. Deterministic: `(seed, index)` gives the
//! same document every time, and [`Generated::choices`] names the layout choices made.

pub mod render;

use render::{Block, Body, TableSpec};
use serde_json::{json, Value};

/// SplitMix64: small, fast and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

/// One generated document and its answers.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The document's name in the gold answers (`g…_NNN.txt`), whatever the format imported.
    pub name: String,
    /// The layout choices made, for a failure message.
    pub choices: Vec<String>,
    pub blocks: Vec<Block>,
    pub body: Body,
    /// `indicator_tables.json` entries, `responsibilities.json` assignments and
    /// `target_statements.json` statements of this document.
    pub tables: Vec<Value>,
    pub assignments: Vec<Value>,
    pub statements: Vec<Value>,
}

impl Generated {
    pub fn text(&self) -> String {
        render::to_text(&self.blocks)
    }

    pub fn docx(&self) -> Vec<u8> {
        render::to_docx(&self.blocks, self.body)
    }
}

/// The three gold files (name, JSON text) for `docs`.
pub fn gold_files(docs: &[Generated]) -> [(&'static str, String); 3] {
    let tables: Vec<&Value> = docs.iter().flat_map(|d| &d.tables).collect();
    let assignments: Vec<&Value> = docs.iter().flat_map(|d| &d.assignments).collect();
    let statements: Vec<&Value> = docs.iter().flat_map(|d| &d.statements).collect();
    let pretty = |v: Value| serde_json::to_string_pretty(&v).unwrap_or_default();
    [
        (
            "indicator_tables.json",
            pretty(json!({"schema": 1, "tables": tables})),
        ),
        (
            "responsibilities.json",
            pretty(json!({"schema": 1, "assignments": assignments})),
        ),
        (
            "target_statements.json",
            pretty(json!({"schema": 1, "statements": statements})),
        ),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dir {
    Higher,
    Lower,
}

impl Dir {
    fn name(self) -> &'static str {
        match self {
            Dir::Higher => "higher",
            Dir::Lower => "lower",
        }
    }
}

/// An indicator as plans name it: name, unit, which way is better, a baseline range and the
/// step a target moves per five years.
struct Measure {
    name: &'static str,
    unit: &'static str,
    dir: Dir,
    base: (f64, f64),
    step: f64,
}

const fn m(
    name: &'static str,
    unit: &'static str,
    dir: Dir,
    base: (f64, f64),
    step: f64,
) -> Measure {
    Measure {
        name,
        unit,
        dir,
        base,
        step,
    }
}

const MEASURES: &[Measure] = &[
    m("人均预期寿命", "岁", Dir::Higher, (77.0, 80.0), 0.8),
    m("居民健康素养水平", "%", Dir::Higher, (20.0, 30.0), 5.0),
    m(
        "经常参加体育锻炼人数比例",
        "%",
        Dir::Higher,
        (35.0, 40.0),
        2.0,
    ),
    m(
        "高血压患者基层规范管理服务率",
        "%",
        Dir::Higher,
        (55.0, 62.0),
        5.0,
    ),
    m("孕产妇系统管理率", "%", Dir::Higher, (85.0, 90.0), 2.0),
    m("农村卫生户厕普及率", "%", Dir::Higher, (70.0, 80.0), 5.0),
    m(
        "严重精神障碍患者规范管理率",
        "%",
        Dir::Higher,
        (80.0, 85.0),
        3.0,
    ),
    m(
        "城市生活饮用水水质达标率",
        "%",
        Dir::Higher,
        (85.0, 90.0),
        3.0,
    ),
    m(
        "每千常住人口医疗卫生机构床位数",
        "张",
        Dir::Higher,
        (4.0, 6.0),
        0.5,
    ),
    m("每万常住人口全科医生数", "人", Dir::Higher, (3.0, 3.8), 0.5),
    m("婴儿死亡率", "‰", Dir::Lower, (2.5, 5.0), 0.5),
    m("5岁以下儿童死亡率", "‰", Dir::Lower, (3.5, 6.0), 0.5),
    m("孕产妇死亡率", "1/10万", Dir::Lower, (9.0, 15.0), 1.0),
    m("15岁以上人群吸烟率", "%", Dir::Lower, (20.0, 26.0), 2.0),
    m("重大慢性病过早死亡率", "%", Dir::Lower, (14.0, 18.0), 1.0),
    m(
        "个人卫生支出占卫生总费用的比重",
        "%",
        Dir::Lower,
        (25.0, 30.0),
        2.0,
    ),
    m("儿童青少年总体近视率", "%", Dir::Lower, (50.0, 56.0), 2.0),
];

/// Indicators named in two parts, the first merged down over the rows of the second
/// (`每千常住人口` | `执业（助理）医师数` / `注册护士数`).
/// A sub-name and the range of its baseline.
type Sub = (&'static str, f64, f64);

const GROUPS: &[(&str, &[Sub])] = &[
    (
        "每千常住人口",
        &[("执业（助理）医师数", 2.5, 3.2), ("注册护士数", 3.0, 3.8)],
    ),
    (
        "每万常住人口",
        &[
            ("全科医生数", 3.0, 3.6),
            ("专业公共卫生机构人员数", 6.0, 8.0),
        ],
    ),
];

const PLACES: &[&str] = &[
    "青禾", "兰湾", "松岭", "鹿川", "桃溪", "枫桥", "云岚", "白鹭", "石泉", "芦洲", "柳塘", "金沙",
    "梅岭", "竹溪", "望江", "银杏", "槐安", "清溪", "凤鸣", "石门",
];

const DEPTS: &[&str] = &[
    "卫生健康局",
    "教育局",
    "体育局",
    "民政局",
    "财政局",
    "医保局",
    "市场监管局",
    "生态环境局",
    "住房城乡建设局",
    "农业农村局",
    "人力资源社会保障局",
    "发展改革局",
    "文化广电旅游体育局",
    "总工会",
    "妇联",
    "委宣传部",
];

const TASKS: &[(&str, &str)] = &[
    (
        "加强健康教育阵地建设",
        "在主要媒体开设健康专栏，办好健康讲座，及时回应群众关切，营造良好舆论氛围。",
    ),
    (
        "完善全民健身设施",
        "推进公共体育设施向社会免费或低收费开放，推动全民健身与全民健康深度融合。",
    ),
    (
        "推进无烟环境建设",
        "全面推进无烟党政机关、无烟医疗卫生机构和无烟学校建设，加大控烟执法力度。",
    ),
    (
        "健全老年健康服务体系",
        "推进医养结合，支持基层医疗卫生机构与养老机构签约合作，提升老年健康服务水平。",
    ),
    (
        "开展城乡环境卫生整治",
        "深入开展爱国卫生运动，推进农村生活垃圾和污水治理，改善城乡人居环境。",
    ),
    (
        "加强妇幼健康服务",
        "落实母婴安全五项制度，加强危重孕产妇和新生儿救治中心建设，提升妇幼健康服务能力。",
    ),
    (
        "强化慢性病综合防控",
        "推进慢性病综合防控示范区建设，开展高血压、糖尿病等慢性病早期筛查和规范管理。",
    ),
    (
        "提升基层医疗卫生服务能力",
        "推进紧密型医疗卫生共同体建设，加强基层医疗卫生人才队伍建设，改善基层服务条件。",
    ),
    (
        "加强心理健康服务",
        "健全心理健康服务体系，加强心理援助热线建设，开展心理健康科普宣传。",
    ),
    (
        "推进职业健康保护",
        "督促用人单位落实职业病防治主体责任，加强职业病危害源头治理和监督检查。",
    ),
    (
        "强化传染病防控",
        "完善传染病监测预警机制，做好重点传染病防控，提高突发公共卫生事件应急处置能力。",
    ),
    (
        "深化医药卫生体制改革",
        "完善分级诊疗制度，推进公立医院高质量发展，健全药品供应保障制度。",
    ),
];

const DOMAINS: &[&str] = &["健康水平", "健康生活", "健康服务", "健康保障", "健康环境"];

/// A unit as written after a number in prose (`15/10万`).
fn after_number(unit: &str) -> &str {
    unit.strip_prefix('1')
        .filter(|u| u.starts_with('/'))
        .unwrap_or(unit)
}

/// A number as plans write it: no trailing zeros.
fn fmt(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    let s = format!("{r:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The government the plan is for.
struct Place {
    name: String,
    /// `市`, `区`, `县` or `省`.
    level: &'static str,
}

impl Place {
    fn whole(&self) -> String {
        format!("全{}", self.level)
    }

    fn dept(&self, d: &str) -> String {
        let d = match (self.level, d) {
            ("省", "卫生健康局") => "卫生健康委",
            ("省", "教育局") => "教育厅",
            ("省", "民政局") => "民政厅",
            ("省", "财政局") => "财政厅",
            ("省", "生态环境局") => "生态环境厅",
            ("省", "住房城乡建设局") => "住房城乡建设厅",
            ("省", "农业农村局") => "农业农村厅",
            ("省", "人力资源社会保障局") => "人力资源社会保障厅",
            ("省", "发展改革局") => "发展改革委",
            ("省", "文化广电旅游体育局") => "文化和旅游厅",
            _ => d,
        };
        format!("{}{d}", self.level)
    }

    fn collective(&self) -> &'static str {
        match self.level {
            "省" => "各地级以上市人民政府",
            "市" => "各县（市、区）政府",
            "区" => "各街道",
            _ => "各乡镇（街道）",
        }
    }
}

/// One statement of the gold answers.
#[allow(clippy::too_many_arguments)]
fn statement(
    doc: &str,
    sentence: &str,
    year: i32,
    subject: &str,
    kind: &str,
    cmp: Option<&str>,
    value: f64,
    value_hi: Option<f64>,
    unit: &str,
    relative_to: Option<Value>,
) -> Value {
    json!({"doc": doc, "sentence": sentence, "year": year, "subject": subject, "kind": kind,
        "cmp": cmp, "value": value, "value_hi": value_hi, "unit": unit,
        "relative_to": relative_to, "note": "generated"})
}

/// The statements of one measure's thresholds, one per (year, value).
fn thresholds(doc: &str, s: &str, m: &Measure, cmp: &str, pairs: &[(i32, f64)]) -> Vec<Value> {
    pairs
        .iter()
        .map(|&(y, v)| {
            statement(
                doc,
                s,
                y,
                m.name,
                "threshold",
                Some(cmp),
                v,
                None,
                m.unit,
                None,
            )
        })
        .collect()
}

struct Builder {
    rng: Rng,
    doc: String,
    choices: Vec<String>,
    blocks: Vec<Block>,
    tables: Vec<Value>,
    assignments: Vec<Value>,
    statements: Vec<Value>,
}

impl Builder {
    fn choose(&mut self, what: &str, options: &[&'static str]) -> &'static str {
        let c = *self.rng.pick(options);
        self.choices.push(format!("{what}={c}"));
        c
    }

    fn para(&mut self, p: String) {
        self.blocks.push(Block::Para(p));
    }
}

/// Generates document `index` of the corpus drawn from `seed`.
pub fn generate(seed: u64, index: usize) -> Generated {
    let mut b = Builder {
        rng: Rng::new(seed ^ (index as u64).wrapping_mul(0xA24B_AED4_963E_E407)),
        doc: format!("g{seed:016x}_{index:03}.txt"),
        choices: Vec::new(),
        blocks: Vec::new(),
        tables: Vec::new(),
        assignments: Vec::new(),
        statements: Vec::new(),
    };
    let level = b.choose("level", &["省", "市", "区", "县"]);
    let place = Place {
        name: b.rng.pick(PLACES).to_string(),
        level,
    };
    // How the plan dates itself decides which years are history.
    let dating = b.choose("dating", &["period", "five_year", "undated"]);
    let (base, title, date) = match dating {
        "period" => {
            let y0 = 2021 + b.rng.below(3) as i32;
            (
                y0 - 1,
                format!("健康{}行动实施方案（{y0}—2030年）", place.name),
                Some(format!(
                    "{y0}年{}月{}日",
                    1 + b.rng.below(12),
                    1 + b.rng.below(28)
                )),
            )
        }
        "five_year" => (
            2020,
            format!("{}{}卫生健康“十四五”规划", place.name, place.level),
            Some(format!(
                "2021年{}月{}日",
                1 + b.rng.below(12),
                1 + b.rng.below(28)
            )),
        ),
        _ => (
            2020 + b.rng.below(3) as i32,
            format!("健康{}行动实施方案", place.name),
            None,
        ),
    };
    b.para(title);
    b.para(format!(
        "为深入推进健康{}建设，全面提升{}人民健康水平，根据《健康中国行动（2019—2030年）》和上级有关部署，结合实际，制定本方案。",
        place.name,
        place.whole()
    ));
    b.para("一、总体要求".into());
    b.para("（一）发展基础".into());
    // History: must yield no target.
    let life = round1(77.0 + b.rng.below(30) as f64 / 10.0);
    let infant = round1(2.0 + b.rng.below(30) as f64 / 10.0);
    let hist = b.choose("history", &["year", "year_end"]);
    let literacy = 20.0 + b.rng.below(80) as f64 / 10.0;
    b.para(format!(
        "{base}年{}，{}人均预期寿命提高到{}岁，婴儿死亡率下降到{}‰，居民健康素养水平达到{}%，医疗卫生服务体系逐步完善。",
        if hist == "year_end" { "末" } else { "" },
        place.whole(),
        fmt(life),
        fmt(infant),
        fmt(literacy)
    ));
    b.para("（二）主要目标".into());
    goals(&mut b, &place, base);
    indicator_table(&mut b, &place, base);
    b.para("二、主要任务".into());
    tasks(&mut b, &place, base);
    b.para("三、保障措施".into());
    b.para(format!(
        "（一）加强组织领导。成立健康{}行动推进委员会（以下简称推进委员会），统筹推进各项工作。",
        place.name
    ));
    b.para("（二）强化监测评估。推进委员会每年组织开展监测评估，每年开展健康科普活动不少于50场次，评估结果作为考核的重要依据。".into());
    if let Some(d) = date {
        b.para(format!("{}{}人民政府", place.name, place.level));
        b.para(d);
    }
    Generated {
        name: b.doc.clone(),
        choices: b.choices,
        blocks: b.blocks,
        body: Body::default(),
        tables: b.tables,
        assignments: b.assignments,
        statements: b.statements,
    }
}

/// Target years after `base`.
fn years(base: i32) -> (i32, i32, i32) {
    let first = if base < 2025 { 2025 } else { 2027 };
    (first, 2030, 2035)
}

/// A target value `k` steps past the baseline, in the measure's direction.
fn ahead(m: &Measure, base: f64, k: f64) -> f64 {
    let v = match m.dir {
        Dir::Higher => base + m.step * k,
        Dir::Lower => base - m.step * k,
    };
    round1(v.max(0.1))
}

fn base_value(rng: &mut Rng, m: &Measure) -> f64 {
    let span = ((m.base.1 - m.base.0) * 10.0).max(1.0) as usize;
    round1(m.base.0 + rng.below(span) as f64 / 10.0)
}

/// The 主要目标 paragraph: targets in the wordings plans use, each sentence with its answers.
fn goals(b: &mut Builder, place: &Place, base: i32) {
    let (y1, y2, y3) = years(base);
    let mut pool: Vec<&Measure> = MEASURES.iter().collect();
    b.rng.shuffle(&mut pool);
    let mut next = pool.into_iter();
    let whole = place.whole();
    let n = 3 + b.rng.below(3);
    let mut sentences = Vec::new();
    let mut semicolon = false;
    for _ in 0..n {
        let form = b.choose(
            "prose",
            &[
                "single",
                "two_years",
                "three_years",
                "paired_subjects",
                "carried",
                "year_after_subject",
                "one_value_two_years",
                "relative",
                "range",
            ],
        );
        let doc = b.doc.clone();
        let mut st: Vec<Value> = Vec::new();
        let sentence = match form {
            "single" => {
                let Some(m) = next.next() else { break };
                let v = ahead(m, base_value(&mut b.rng, m), 1.0);
                let (word, cmp) = verb(&mut b.rng, m.dir);
                let s = format!(
                    "到{y1}年，{whole}{}{word}{}{}。",
                    m.name,
                    fmt(v),
                    after_number(m.unit)
                );
                st.extend(thresholds(&doc, &s, m, cmp, &[(y1, v)]));
                s
            }
            "two_years" => {
                let Some(m) = next.next() else { break };
                let b0 = base_value(&mut b.rng, m);
                let (v1, v2) = (ahead(m, b0, 1.0), ahead(m, b0, 2.0));
                let (word, cmp) = match m.dir {
                    Dir::Higher => ("不低于", ">="),
                    Dir::Lower => ("控制在", "<="),
                };
                let tail = if word == "控制在" { "以内" } else { "" };
                let s = format!(
                    "到{y1}年和{y2}年，{whole}{}分别{word}{}{u}和{}{u}{tail}。",
                    m.name,
                    fmt(v1),
                    fmt(v2),
                    u = after_number(m.unit)
                );
                st.extend(thresholds(&doc, &s, m, cmp, &[(y1, v1), (y2, v2)]));
                s
            }
            "three_years" => {
                let Some(m) = next.next() else { break };
                let b0 = base_value(&mut b.rng, m);
                let vs = [ahead(m, b0, 1.0), ahead(m, b0, 2.0), ahead(m, b0, 3.0)];
                let cmp = if m.dir == Dir::Higher { ">=" } else { "<=" };
                let word = if m.dir == Dir::Higher {
                    "达到"
                } else {
                    "下降到"
                };
                let s = format!(
                    "到{y1}年、{y2}年和{y3}年，{}分别{word}{}{u}、{}{u}和{}{u}。",
                    m.name,
                    fmt(vs[0]),
                    fmt(vs[1]),
                    fmt(vs[2]),
                    u = after_number(m.unit)
                );
                st.extend(thresholds(
                    &doc,
                    &s,
                    m,
                    cmp,
                    &[(y1, vs[0]), (y2, vs[1]), (y3, vs[2])],
                ));
                s
            }
            "paired_subjects" => {
                // Three subjects paired in order with three values, one year.
                let lower: Vec<&Measure> =
                    MEASURES.iter().filter(|m| m.dir == Dir::Lower).collect();
                let mut ms: Vec<&Measure> = lower.clone();
                b.rng.shuffle(&mut ms);
                let ms = &ms[..3];
                let vs: Vec<f64> = ms
                    .iter()
                    .map(|m| ahead(m, base_value(&mut b.rng, m), 1.0))
                    .collect();
                let s = format!(
                    "到{y1}年，{}、{}、{}分别下降到{}{}、{}{}、{}{}。",
                    ms[0].name,
                    ms[1].name,
                    ms[2].name,
                    fmt(vs[0]),
                    after_number(ms[0].unit),
                    fmt(vs[1]),
                    after_number(ms[1].unit),
                    fmt(vs[2]),
                    after_number(ms[2].unit)
                );
                for (m, v) in ms.iter().zip(&vs) {
                    st.push(statement(
                        &doc,
                        &s,
                        y1,
                        m.name,
                        "threshold",
                        Some("<="),
                        *v,
                        None,
                        m.unit,
                        None,
                    ));
                }
                s
            }
            "carried" => {
                let Some(m) = next.next() else { break };
                let b0 = base_value(&mut b.rng, m);
                let (v1, v2) = (ahead(m, b0, 1.0), ahead(m, b0, 2.0));
                let (word, cmp) = if m.dir == Dir::Higher {
                    ("达到", ">=")
                } else {
                    ("下降到", "<=")
                };
                let end = b.choose("carried_end", &["。", ";"]);
                // A sentence ending in `;` ends its paragraph too.
                semicolon |= end == ";";
                let s = format!(
                    "到{y1}年，{whole}{}{word}{}{u}；到{y2}年，{word}{}{u}{end}",
                    m.name,
                    fmt(v1),
                    fmt(v2),
                    u = after_number(m.unit)
                );
                st.extend(thresholds(&doc, &s, m, cmp, &[(y1, v1), (y2, v2)]));
                s
            }
            "year_after_subject" => {
                let Some(m) = next.next() else { break };
                let b0 = base_value(&mut b.rng, m);
                let (v1, v2) = (ahead(m, b0, 1.0), ahead(m, b0, 2.0));
                let (word, cmp) = if m.dir == Dir::Higher {
                    ("达到", ">=")
                } else {
                    ("下降到", "<=")
                };
                let s = format!(
                    "{whole}{}{y1}年{word}{}{u}、{y2}年{word}{}{u}。",
                    m.name,
                    fmt(v1),
                    fmt(v2),
                    u = after_number(m.unit)
                );
                st.extend(thresholds(&doc, &s, m, cmp, &[(y1, v1), (y2, v2)]));
                s
            }
            "one_value_two_years" => {
                let v = 2 + b.rng.below(8);
                let noun = b
                    .rng
                    .pick(&["健康主题公园", "健康步道", "健康小屋", "社区体育公园"]);
                let s = format!("到{y1}年和{y2}年，每个街道（乡镇）{noun}数量分别不少于{v}个。");
                for y in [y1, y2] {
                    st.push(statement(
                        &doc,
                        &s,
                        y,
                        &format!("{noun}数量"),
                        "threshold",
                        Some(">="),
                        v as f64,
                        None,
                        "个",
                        None,
                    ));
                }
                s
            }
            "relative" => {
                let lower: Vec<&Measure> = MEASURES
                    .iter()
                    .filter(|m| m.dir == Dir::Lower && m.unit == "%")
                    .collect();
                let m = *b.rng.pick(&lower);
                let v = (5 + b.rng.below(4) * 5) as f64;
                let s = format!("到{y2}年，{}比{base}年下降{}%。", m.name, fmt(v));
                st.push(statement(
                    &doc,
                    &s,
                    y2,
                    m.name,
                    "relative_change",
                    None,
                    -v,
                    None,
                    "%",
                    Some(json!(base)),
                ));
                s
            }
            _ => {
                let lo = 1 + b.rng.below(3);
                let hi = lo + 1 + b.rng.below(3);
                let noun = b
                    .rng
                    .pick(&["区域医疗中心", "紧密型医疗卫生共同体", "智慧健康驿站"]);
                let s = format!("到{y1}年，建成{lo}-{hi}个{noun}。");
                st.push(statement(
                    &doc,
                    &s,
                    y1,
                    noun,
                    "range",
                    None,
                    lo as f64,
                    Some(hi as f64),
                    "个",
                    None,
                ));
                s
            }
        };
        sentences.push(sentence);
        b.statements.extend(st);
    }
    // One paragraph of several sentences, or one per line.
    if !semicolon && b.rng.chance(0.5) {
        let p = sentences.concat();
        b.para(p);
    } else {
        for s in sentences {
            b.para(s);
        }
    }
}

/// A comparator word for a single target and the comparator it means.
fn verb(rng: &mut Rng, d: Dir) -> (&'static str, &'static str) {
    match d {
        Dir::Higher => *rng.pick(&[
            ("达到", ">="),
            ("不低于", ">="),
            ("提高到", ">="),
            ("超过", ">"),
        ]),
        Dir::Lower => *rng.pick(&[
            ("下降到", "<="),
            ("控制在", "<="),
            ("低于", "<"),
            ("降至", "<="),
        ]),
    }
}

/// One row of the indicator table before it is laid out.
struct Row {
    /// The name as written: one part, or (prefix, sub-name) for a name merged down.
    name: (Option<String>, String),
    unit: String,
    dir: Dir,
    property: &'static str,
    domain: &'static str,
    baseline: Option<(f64, i32)>,
    /// Per target year: the cell text and its answer (kind, cmp, value); `None` when the cell
    /// is merged into the one before.
    targets: Vec<Option<(String, Value)>>,
}

#[derive(Clone, Copy, PartialEq)]
enum ColKind {
    Domain,
    Serial,
    Name,
    Unit,
    Baseline,
    Target(usize),
    Property,
    Remark,
}

/// A target cell and its answer.
fn target_cell(rng: &mut Rng, dir: Dir, v: f64, compared_only: bool, year: i32) -> (String, Value) {
    let forms: &[&str] = match (dir, compared_only) {
        (Dir::Higher, false) => &["≥", ">", "以上", "bare", "稳定在以上"],
        (Dir::Higher, true) => &["≥", ">", "以上", "稳定在以上"],
        (Dir::Lower, false) => &["≤", "＜", "<", "以下", "bare", "控制在以内"],
        (Dir::Lower, true) => &["≤", "＜", "<", "以下", "控制在以内"],
    };
    let f = *rng.pick(forms);
    let s = fmt(v);
    let (text, cmp) = match f {
        "≥" => (format!("≥{s}"), ">="),
        ">" => (format!(">{s}"), ">"),
        "以上" => (format!("{s}以上"), ">="),
        "稳定在以上" => (format!("稳定在{s}以上"), ">="),
        "≤" => (format!("≤{s}"), "<="),
        "＜" => (format!("＜{s}"), "<"),
        "<" => (format!("<{s}"), "<"),
        "以下" => (format!("{s}以下"), "<"),
        "控制在以内" => (format!("控制在{s}以内"), "<="),
        _ => (s.clone(), if dir == Dir::Higher { ">=" } else { "<=" }),
    };
    let answer = json!({"year": year, "kind": "threshold", "cmp": cmp, "value": v, "text": text});
    (text, answer)
}

fn indicator_table(b: &mut Builder, place: &Place, base: i32) {
    let (y1, y2, y3) = years(base);
    let three = b.choose("target_years", &["two", "three"]) == "three";
    let target_years: Vec<i32> = if three {
        vec![y1, y2, y3]
    } else {
        vec![y1, y2]
    };
    let baseline_head = b.choose(
        "baseline_header",
        &[
            "基线值（Y年）",
            "Y年现状值",
            "基期值/Y年",
            "bare_year",
            "现状值+cell_year",
            "Y年基线值",
        ],
    );
    let target_head = b.choose(
        "target_header",
        &["Y年目标值", "Y年", "到Y年", "目标值/Y年"],
    );
    let unit_at = b.choose("unit", &["in_name", "column_before", "column_after"]);
    let property_at = b.choose("property", &["none", "before_targets", "after_targets"]);
    let domain = b.choose(
        "domain",
        &["none", "column", "rows", "rows_with_empty_cells"],
    );
    let group = b.choose("name_merged_down", &["no", "yes"]) == "yes";
    let spans = b.choose("target_across_years", &["no", "yes"]) == "yes";
    let split = b.choose("split_table", &["no", "yes"]) == "yes";
    let remark = b.rng.chance(0.3);
    let empty_merged = b.choose("txt_merged_cells", &["absent", "empty"]) == "empty" || group;
    // A bare year column is the baseline only when its plain numbers face compared targets.
    let compared_only = baseline_head == "bare_year";
    let two_rows = baseline_head == "基期值/Y年" || target_head == "目标值/Y年";

    // The rows.
    let mut pool: Vec<&Measure> = MEASURES.iter().collect();
    b.rng.shuffle(&mut pool);
    let n = 5 + b.rng.below(5);
    let mut rows: Vec<Row> = Vec::new();
    let mut group_at = if group { Some(b.rng.below(n)) } else { None };
    let mut k = 0;
    while rows.len() < n {
        let domain_name = DOMAINS[(rows.len() * DOMAINS.len() / n).min(DOMAINS.len() - 1)];
        let property = if b.rng.chance(0.3) {
            "约束性"
        } else {
            "预期性"
        };
        if group_at == Some(rows.len()) {
            group_at = None;
            let (prefix, subs) = *b.rng.pick(GROUPS);
            for (sub, lo, hi) in subs.iter() {
                let m = Measure {
                    name: "",
                    unit: "人",
                    dir: Dir::Higher,
                    base: (*lo, *hi),
                    step: 0.3,
                };
                rows.push(row_of(
                    b,
                    &m,
                    (Some(prefix.to_string()), sub.to_string()),
                    domain_name,
                    property,
                    base,
                    &target_years,
                    compared_only,
                    spans,
                ));
            }
            continue;
        }
        let Some(m) = pool.get(k) else { break };
        k += 1;
        // The measures a group names are not repeated on their own.
        if m.name.starts_with("每万常住人口") && group {
            continue;
        }
        rows.push(row_of(
            b,
            m,
            (None, m.name.to_string()),
            domain_name,
            property,
            base,
            &target_years,
            compared_only,
            spans,
        ));
    }
    // Baseline years: one per cell when the header names none.
    if baseline_head == "现状值+cell_year" {
        // Some earlier, the latest being the year the plan's history speaks of.
        let mut first = true;
        for r in rows.iter_mut() {
            if let Some((_, y)) = r.baseline.as_mut() {
                *y = if first {
                    base
                } else {
                    base - b.rng.below(2) as i32
                };
                first = false;
            }
        }
    }

    // The columns.
    let mut cols: Vec<ColKind> = Vec::new();
    if domain == "column" {
        cols.push(ColKind::Domain);
    }
    cols.push(ColKind::Serial);
    cols.push(ColKind::Name);
    if unit_at == "column_before" {
        cols.push(ColKind::Unit);
    }
    cols.push(ColKind::Baseline);
    if property_at == "before_targets" {
        cols.push(ColKind::Property);
    }
    for i in 0..target_years.len() {
        cols.push(ColKind::Target(i));
    }
    if unit_at == "column_after" {
        cols.push(ColKind::Unit);
    }
    if property_at == "after_targets" {
        cols.push(ColKind::Property);
    }
    if remark {
        cols.push(ColKind::Remark);
    }
    // A name column of two grid columns when names are merged down in two parts.
    let name_cells = if group { 2 } else { 1 };
    let width = cols.len() + name_cells - 1;

    let header = |first: bool| -> Vec<String> {
        let mut h = Vec::new();
        for c in &cols {
            match c {
                ColKind::Domain => h.push(if first { "领域".into() } else { "^".into() }),
                ColKind::Serial => h.push(if first { "序号".into() } else { "^".into() }),
                ColKind::Name => {
                    h.push(if first {
                        "指标名称".into()
                    } else {
                        "^".into()
                    });
                    if group {
                        h.push("<".into());
                    }
                }
                ColKind::Unit => h.push(if first { "单位".into() } else { "^".into() }),
                ColKind::Baseline => h.push(match (baseline_head, first) {
                    ("基线值（Y年）", true) => format!("基线值（{base}年）"),
                    ("Y年现状值", true) => format!("{base}年现状值"),
                    ("基期值/Y年", true) => "基期值".into(),
                    ("基期值/Y年", false) => format!("{base}年"),
                    ("bare_year", true) => format!("{base}年"),
                    ("现状值+cell_year", true) => "现状值".into(),
                    ("Y年基线值", true) => format!("{base}年基线值"),
                    _ => "^".into(),
                }),
                ColKind::Target(i) => {
                    let y = target_years[*i];
                    h.push(match (target_head, first) {
                        ("Y年目标值", true) => format!("{y}年目标值"),
                        ("Y年", true) => format!("{y}年"),
                        ("到Y年", true) => format!("到{y}年"),
                        ("目标值/Y年", true) => {
                            if *i == 0 {
                                "目标值".into()
                            } else {
                                "<".into()
                            }
                        }
                        ("目标值/Y年", false) => format!("{y}年"),
                        _ => "^".into(),
                    })
                }
                ColKind::Property => h.push(if first {
                    "指标属性".into()
                } else {
                    "^".into()
                }),
                ColKind::Remark => h.push(if first { "备注".into() } else { "^".into() }),
            }
        }
        h
    };

    let mut table_rows: Vec<Vec<String>> = Vec::new();
    let mut answers: Vec<Value> = Vec::new();
    let mut prev_domain = "";
    let mut prev_prefix: Option<String> = None;
    let mut serial = 0;
    let mut tables_out: Vec<(Vec<Vec<String>>, Vec<Value>)> = Vec::new();
    // The continued table starts at a row of its own (not inside a name merged down).
    let mut cut = if split { Some(rows.len() / 2) } else { None };
    for (ri, r) in rows.iter().enumerate() {
        if cut.is_some_and(|c| ri >= c) && !(r.name.0.is_some() && prev_prefix == r.name.0) {
            cut = None;
            tables_out.push((
                std::mem::take(&mut table_rows),
                std::mem::take(&mut answers),
            ));
            prev_domain = "";
            prev_prefix = None;
        }
        if domain.starts_with("rows") && r.domain != prev_domain {
            let mut cells = vec![format!(
                "{}、{}",
                cn(DOMAINS.iter().position(|d| *d == r.domain).unwrap_or(0) + 1),
                r.domain
            )];
            let fill = if domain == "rows" { "<" } else { "" };
            cells.extend((1..width).map(|_| fill.to_string()));
            table_rows.push(cells);
        }
        serial += 1;
        let mut cells = Vec::new();
        for c in &cols {
            match c {
                ColKind::Domain => cells.push(if r.domain == prev_domain {
                    "^".into()
                } else {
                    r.domain.to_string()
                }),
                ColKind::Serial => cells.push(serial.to_string()),
                ColKind::Name => {
                    let mut name = r.name.1.clone();
                    if unit_at == "in_name" {
                        name = format!("{name}（{}）", r.unit);
                    }
                    match (&r.name.0, group) {
                        (Some(p), _) => {
                            cells.push(if prev_prefix.as_ref() == Some(p) {
                                "^".into()
                            } else {
                                p.clone()
                            });
                            cells.push(name);
                        }
                        (None, true) => {
                            cells.push(name);
                            cells.push("<".into());
                        }
                        (None, false) => cells.push(name),
                    }
                }
                ColKind::Unit => cells.push(r.unit.clone()),
                ColKind::Baseline => cells.push(match (r.baseline, baseline_head) {
                    (None, _) => "—".into(),
                    (Some((v, y)), "现状值+cell_year") => format!("{}（{y}年）", fmt(v)),
                    (Some((v, _)), _) => fmt(v),
                }),
                ColKind::Target(i) => cells.push(match &r.targets[*i] {
                    Some((t, _)) => t.clone(),
                    None => "<".into(),
                }),
                ColKind::Property => cells.push(r.property.to_string()),
                ColKind::Remark => cells.push(if ri % 3 == 0 {
                    "新增指标".into()
                } else {
                    String::new()
                }),
            }
        }
        prev_domain = r.domain;
        prev_prefix = r.name.0.clone();
        table_rows.push(cells);
        let name = match &r.name.0 {
            Some(p) => format!("{p}{}", r.name.1),
            None => r.name.1.clone(),
        };
        let mut targets: Vec<Value> = Vec::new();
        let mut last: Option<Value> = None;
        for (i, t) in r.targets.iter().enumerate() {
            let a = match t {
                Some((_, a)) => a.clone(),
                None => last.clone().unwrap_or(Value::Null),
            };
            let mut a = a;
            a["year"] = json!(target_years[i]);
            last = Some(a.clone());
            targets.push(a);
        }
        answers.push(json!({
            "row": serial,
            "name": name,
            "unit": r.unit,
            "direction": r.dir.name(),
            "property": if property_at == "none" { Value::Null } else { json!(if r.property == "约束性" { "binding" } else { "expected" }) },
            "domain": if domain == "none" { Value::Null } else { json!(r.domain) },
            "baseline": r.baseline.map(|(v, y)| json!({"value": v, "year": y, "text": fmt(v)})),
            "targets": targets,
        }));
    }
    tables_out.push((table_rows, answers));
    let caption = format!("表1 健康{}行动主要指标", place.name);
    for (k, (trows, answers)) in tables_out.into_iter().enumerate() {
        let cap = if k == 0 {
            caption.clone()
        } else {
            "表1（续）".to_string()
        };
        b.para(cap.clone());
        let mut all = vec![header(true)];
        if two_rows {
            all.push(header(false));
        }
        all.extend(trows);
        b.blocks.push(Block::Table(TableSpec {
            center: b.rng.chance(0.5),
            empty_merged,
            rows: all,
            ..TableSpec::default()
        }));
        b.tables.push(json!({
            "doc": b.doc,
            "caption": cap,
            "baseline_year": base,
            "target_years": target_years,
            "indicators": answers,
        }));
    }
}

#[allow(clippy::too_many_arguments)]
fn row_of(
    b: &mut Builder,
    m: &Measure,
    name: (Option<String>, String),
    domain: &'static str,
    property: &'static str,
    base: i32,
    years: &[i32],
    compared_only: bool,
    spans: bool,
) -> Row {
    let b0 = base_value(&mut b.rng, m);
    let baseline = if b.rng.chance(0.1) {
        None
    } else {
        Some((b0, base))
    };
    let mut targets: Vec<Option<(String, Value)>> = Vec::new();
    // A target written once across two years, with words after the number.
    let across = spans && b.rng.chance(0.4) && m.dir == Dir::Higher && m.unit == "%";
    for (i, &y) in years.iter().enumerate() {
        if across && i > 0 {
            targets.push(None);
            continue;
        }
        if across {
            let v = ahead(m, b0, 1.0).min(99.0);
            let text = if b.rng.chance(0.5) {
                format!("≥{}%并保持", fmt(v))
            } else {
                format!("稳定在{}%以上", fmt(v))
            };
            targets.push(Some((
                text.clone(),
                json!({"year": y, "kind": "threshold", "cmp": ">=", "value": v, "text": text}),
            )));
            continue;
        }
        let v = ahead(m, b0, (i + 1) as f64);
        targets.push(Some(target_cell(&mut b.rng, m.dir, v, compared_only, y)));
    }
    Row {
        name,
        unit: m.unit.to_string(),
        dir: m.dir,
        property,
        domain,
        baseline,
        targets,
    }
}

fn cn(n: usize) -> &'static str {
    ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"][(n.max(1) - 1).min(9)]
}

/// The tasks, each with its responsible units in one of the forms plans use, some with a target
/// in the text; and sometimes a task-allocation table.
fn tasks(b: &mut Builder, place: &Place, base: i32) {
    let (y1, _, _) = years(base);
    let mut pool: Vec<&(&str, &str)> = TASKS.iter().collect();
    b.rng.shuffle(&mut pool);
    let n = 4 + b.rng.below(4);
    b.para("（一）实施健康促进行动".into());
    for (k, (title, body)) in pool.iter().take(n).enumerate() {
        let mut depts: Vec<&str> = DEPTS.to_vec();
        b.rng.shuffle(&mut depts);
        let count = 1 + b.rng.below(3);
        let mut units: Vec<String> = depts[..count].iter().map(|d| place.dept(d)).collect();
        if b.rng.chance(0.2) {
            units.push(place.collective().to_string());
        }
        let form = b.choose(
            "units",
            &[
                "负责",
                "分别负责",
                "牵头负责",
                "牵头参与",
                "责任部门",
                "等部门按职责分工负责",
                "分号",
                "next_line",
                "牵头配合",
            ],
        );
        // `牵头负责` names one unit; `参与`/`配合` forms need helpers.
        if form == "牵头负责" {
            units.truncate(1);
        }
        if matches!(form, "牵头参与" | "牵头配合" | "next_line") && units.len() < 2 {
            units.push(place.dept(depts[count]));
        }
        let mode = if matches!(form, "分别负责" | "等部门按职责分工负责") {
            "each_responsible"
        } else {
            "lead_first"
        };
        let list = units.join("、");
        let (lead, rest) = (units[0].clone(), units[1..].join("、"));
        let raw = match form {
            "负责" => format!("（{list}负责）"),
            "分别负责" => format!("（{list}分别负责）"),
            "牵头负责" => format!("（{lead}牵头负责）"),
            "牵头参与" => format!("（{lead}牵头，{rest}参与）"),
            "责任部门" => format!("（责任部门：{list}）"),
            "等部门按职责分工负责" => format!("（{list}等部门按职责分工负责）"),
            "分号" => format!("（{}负责）", units.join("；")),
            "牵头配合" => format!("（{lead}牵头，{rest}配合）"),
            _ => format!("牵头单位：{lead}；配合单位：{rest}"),
        };
        // Some tasks carry a target of their own.
        let mut text = format!("{}.{title}。{body}", k + 1);
        if b.rng.chance(0.3) {
            let m = &MEASURES[b.rng.below(MEASURES.len())];
            let v = ahead(m, base_value(&mut b.rng, m), 1.0);
            let (word, cmp) = verb(&mut b.rng, m.dir);
            let s = format!(
                "到{y1}年，{}{word}{}{}。",
                m.name,
                fmt(v),
                after_number(m.unit)
            );
            text.push_str(&s);
            let doc = b.doc.clone();
            b.statements
                .extend(thresholds(&doc, &s, m, cmp, &[(y1, v)]));
        }
        let start: String = text.chars().take(30).collect();
        if form == "next_line" {
            b.para(text);
            b.para(raw.clone());
        } else {
            b.para(format!("{text}{raw}"));
        }
        b.assignments
            .push(json!({"doc": b.doc, "task_start": start, "raw": raw,
            "units": units, "lead": lead, "mode": mode}));
    }
    if b.choose("task_table", &["no", "yes"]) == "yes" {
        task_table(b, place, &pool[n.min(pool.len())..]);
    }
}

/// 重点任务分工表: 序号 | 重点任务 | 牵头单位 | 配合单位, a lead merged down over the rows it
/// leads, `—` where no unit assists.
fn task_table(b: &mut Builder, place: &Place, pool: &[&(&str, &str)]) {
    b.para("附件".into());
    b.para("重点任务分工表".into());
    let mut rows = vec![vec![
        "序号".to_string(),
        "重点任务".to_string(),
        "牵头单位".to_string(),
        "配合单位".to_string(),
    ]];
    let mut depts: Vec<&str> = DEPTS.to_vec();
    b.rng.shuffle(&mut depts);
    let mut lead = String::new();
    let mut run = 0;
    let mut d = 0;
    for (k, (title, _)) in pool.iter().take(3 + b.rng.below(3)).enumerate() {
        let merged = run > 0 && run < 3 && b.rng.chance(0.6);
        if !merged {
            lead = place.dept(depts[d % depts.len()]);
            d += 1;
            run = 0;
        }
        run += 1;
        let helpers: Vec<String> = if b.rng.chance(0.3) {
            Vec::new()
        } else {
            let h = 1 + b.rng.below(2);
            (0..h)
                .map(|_| {
                    d += 1;
                    place.dept(depts[d % depts.len()])
                })
                .collect()
        };
        let helpers_text = if helpers.is_empty() {
            "—".to_string()
        } else {
            helpers.join("、")
        };
        rows.push(vec![
            (k + 1).to_string(),
            title.to_string(),
            if merged {
                "^".to_string()
            } else {
                lead.clone()
            },
            helpers_text.clone(),
        ]);
        let mut units = vec![lead.clone()];
        units.extend(helpers);
        b.assignments.push(
            json!({"doc": b.doc, "task_start": title, "raw": format!("{lead}；{helpers_text}"),
            "units": units, "lead": lead, "mode": "lead_first"}),
        );
    }
    b.blocks.push(Block::Table(TableSpec {
        rows,
        widths: vec![6, 40, 20, 30],
        ..TableSpec::default()
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_document() {
        let a = generate(7, 3);
        let b = generate(7, 3);
        assert_eq!(a.text(), b.text());
        assert_eq!(a.statements, b.statements);
        assert_ne!(generate(8, 3).text(), a.text());
        assert!(a.docx().starts_with(b"PK"));
    }

    #[test]
    fn gold_counts_follow_the_text() {
        for i in 0..50 {
            let g = generate(11, i);
            let text = g.text();
            for s in &g.statements {
                let sentence = s["sentence"].as_str().unwrap();
                assert!(text.contains(sentence), "{sentence}");
            }
            assert!(!g.tables.is_empty());
        }
    }
}
