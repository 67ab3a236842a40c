//! Numbers as written in plans.

/// Parses `12`, `4.79`, full-width digits, `1,200`; `None` for anything else.
pub fn parse_f64(s: &str) -> Option<f64> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            c => c,
        })
        .collect();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Value of a small Chinese numeral (一 … 九十九); `None` otherwise.
pub fn chinese_small(s: &str) -> Option<u32> {
    fn digit(c: char) -> Option<u32> {
        "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|p| p as u32)
    }
    let cs: Vec<char> = s.chars().collect();
    match cs.as_slice() {
        [] => None,
        ['十'] => Some(10),
        ['十', d] => digit(*d).map(|d| 10 + d),
        [a, '十'] => digit(*a).map(|a| a * 10),
        [a, '十', b] => Some(digit(*a)? * 10 + digit(*b)?),
        [d] => digit(*d),
        _ => None,
    }
}

/// Number of a heading label such as `12`, `十二`, `⑤`.
#[cfg(test)]
pub fn label_number(s: &str) -> Option<u32> {
    if let Some(v) = parse_f64(s) {
        return Some(v as u32);
    }
    if let Some(c) = s.chars().next() {
        if ('①'..='⑳').contains(&c) {
            return Some(c as u32 - '①' as u32 + 1);
        }
    }
    chinese_small(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_f64("4.79"), Some(4.79));
        assert_eq!(parse_f64("１２"), Some(12.0));
        assert_eq!(parse_f64("a"), None);
        assert_eq!(parse_f64("."), None);
        assert_eq!(chinese_small("十二"), Some(12));
        assert_eq!(chinese_small("三十"), Some(30));
        assert_eq!(label_number("③"), Some(3));
    }
}
