//! The two languages of the interface. Chinese first; English when the page's switch (a
//! cookie) or the request's `Accept-Language` asks for it. Page strings come from one catalogue
//! per language (`i18n/zh-CN.toml`, `i18n/en.toml`).

use axum::http::{header, HeaderMap};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The cookie the language switch sets.
pub const LANG_COOKIE: &str = "hp_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The page switch's cookie, else the first language of `Accept-Language` we speak,
    /// else Chinese.
    pub fn of_request(headers: &HeaderMap) -> Lang {
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix(LANG_COOKIE)?.strip_prefix('='))
            .find_map(Lang::parse);
        if let Some(l) = cookie {
            return l;
        }
        let mut prefs: Vec<(f32, Lang)> = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let lang = Lang::parse(it.next()?)?;
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        prefs.sort_by(|a, b| b.0.total_cmp(&a.0));
        prefs.first().map_or(Lang::Zh, |p| p.1)
    }
}

/// A catalogue: key → text.
pub type Catalogue = BTreeMap<String, String>;

fn parse_catalogue(text: &str) -> Catalogue {
    // The catalogues are compiled in; a broken one fails the catalogue test, never a request.
    let table: toml::Table = text.parse().unwrap_or_default();
    let mut out = Catalogue::new();
    fn flatten(prefix: &str, t: &toml::Table, out: &mut Catalogue) {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => flatten(&key, t, out),
                toml::Value::String(s) => {
                    out.insert(key, s.clone());
                }
                other => {
                    out.insert(key, other.to_string());
                }
            }
        }
    }
    flatten("", &table, &mut out);
    out
}

pub const ZH_SOURCE: &str = include_str!("../i18n/zh-CN.toml");
pub const EN_SOURCE: &str = include_str!("../i18n/en.toml");

pub fn catalogue(lang: Lang) -> &'static Catalogue {
    static ZH: OnceLock<Catalogue> = OnceLock::new();
    static EN: OnceLock<Catalogue> = OnceLock::new();
    match lang {
        Lang::Zh => ZH.get_or_init(|| parse_catalogue(ZH_SOURCE)),
        Lang::En => EN.get_or_init(|| parse_catalogue(EN_SOURCE)),
    }
}

/// The text for `key`; the key itself when missing (the catalogue test keeps none missing).
pub fn t(lang: Lang, key: &str) -> String {
    catalogue(lang)
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn language_from_cookie_then_accept_language() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of_request(&h), Lang::Zh);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr;q=1, en-US;q=0.8, zh-CN;q=0.5"),
        );
        assert_eq!(Lang::of_request(&h), Lang::En);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; hp_lang=zh-CN"),
        );
        assert_eq!(Lang::of_request(&h), Lang::Zh);
    }

    #[test]
    fn catalogues_have_the_same_keys() {
        let zh = catalogue(Lang::Zh);
        let en = catalogue(Lang::En);
        assert!(zh.len() > 50, "the Chinese catalogue parsed: {}", zh.len());
        let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        assert!(only_zh.is_empty(), "missing in en.toml: {only_zh:?}");
        assert!(only_en.is_empty(), "missing in zh-CN.toml: {only_en:?}");
    }
}
