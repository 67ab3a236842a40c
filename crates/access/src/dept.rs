//! Departments are named differently at each level (`市卫生健康局`, `区卫生健康局`,
//! `光明区卫生健康局`); access compares them by function.

/// Level words a department name may start with.
const LEVELS: [&str; 7] = ["街道", "省", "市", "区", "县", "镇", "乡"];
/// Names that start with a level character without being a level prefix (`市场监督管理局`).
const NOT_LEVELS: [&str; 3] = ["市场", "区域", "县域"];

/// The department's function, without its area: `深圳市卫生健康委员会` and
/// `市卫生健康委员会` both become `卫生健康委员会`. `area_names` are the known areas' names.
pub fn department_key<S: AsRef<str>>(name: &str, area_names: &[S]) -> String {
    let mut s: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect();
    if let Some(n) = area_names
        .iter()
        .map(AsRef::as_ref)
        .filter(|n| !n.is_empty() && s.starts_with(n) && s.len() > n.len())
        .max_by_key(|n| n.len())
    {
        s = s[n.len()..].to_string();
    }
    if !NOT_LEVELS.iter().any(|w| s.starts_with(w)) {
        if let Some(l) = LEVELS
            .iter()
            .find(|l| s.starts_with(*l) && s.len() > l.len())
        {
            s = s[l.len()..].to_string();
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_area_names_are_dropped() {
        let areas = ["深圳市", "光明区", "广东省"];
        for (name, key) in [
            ("市卫生健康局", "卫生健康局"),
            ("区卫生健康局", "卫生健康局"),
            ("光明区卫生健康局", "卫生健康局"),
            ("深圳市 卫生健康委员会", "卫生健康委员会"),
            ("市市场监督管理局", "市场监督管理局"),
            ("市场监督管理局", "市场监督管理局"),
            ("区委宣传部(区委网信办)", "委宣传部（区委网信办）"),
            ("街道办事处", "办事处"),
            ("教育局", "教育局"),
            ("市", "市"),
        ] {
            assert_eq!(department_key(name, &areas), key, "{name}");
        }
    }
}
