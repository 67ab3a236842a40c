//! Search over what a caller may read: indicators, tasks, areas and departments, by Chinese
//! text, pinyin initials (`ylws` finds 医疗卫生) or whole pinyin (`yiliao`).
//!
//! Only readable plans are opened and only readable areas listed, so a match outside the
//! caller's scope is never seen, let alone returned.

use crate::{App, Result};
use healthplan_access::Caps;
use healthplan_core::AreaCode;
use pinyin::{ToPinyin, ToPinyinMulti};
use serde::Serialize;
use std::collections::BTreeSet;

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    Indicator,
    Task,
    Area,
    Department,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hit {
    pub kind: HitKind,
    /// What matched (a task's text cut to 80 characters).
    pub title: String,
    /// Where it sits: the plan's title, the parent area.
    pub context: String,
    /// The page to open, when there is one the caller may see.
    pub href: Option<String>,
    /// Lower is better: 0 a Chinese substring, 1 whole pinyin, 2 pinyin initials.
    #[serde(skip)]
    pub rank: u8,
}

/// At most this many hits are returned, best first.
pub const MAX_HITS: usize = 100;
/// Longer queries are cut (nobody types more; it bounds the matching work).
pub const MAX_QUERY_CHARS: usize = 40;

/// A query, normalised once.
#[derive(Debug, Clone)]
pub struct Matcher {
    text: String,
    /// Lowercase ASCII letters only: also matched against pinyin.
    letters: Option<Vec<u8>>,
}

impl Matcher {
    /// `None` for an empty query.
    pub fn new(query: &str) -> Option<Matcher> {
        let text: String = query
            .trim()
            .chars()
            .take(MAX_QUERY_CHARS)
            .collect::<String>()
            .to_lowercase();
        if text.is_empty() {
            return None;
        }
        let letters = text
            .bytes()
            .all(|b| b.is_ascii_lowercase())
            .then(|| text.as_bytes().to_vec());
        Some(Matcher { text, letters })
    }

    /// How well `s` matches, `None` when it does not.
    pub fn rank(&self, s: &str) -> Option<u8> {
        if s.to_lowercase().contains(&self.text) {
            return Some(0);
        }
        let letters = self.letters.as_ref()?;
        if letters.len() >= 2 {
            let whole: String = s
                .chars()
                .map(|c| match c.to_pinyin() {
                    Some(p) => p.plain().to_string(),
                    None => c.to_lowercase().collect(),
                })
                .collect();
            if whole.contains(&self.text) {
                return Some(1);
            }
        }
        // Each character's possible initials (every reading of a heteronym: 行 is x or h).
        let initials: Vec<Vec<u8>> = s
            .chars()
            .map(|c| match c.to_pinyin_multi() {
                Some(m) => m
                    .into_iter()
                    .filter_map(|p| p.plain().bytes().next())
                    .collect(),
                None => c
                    .to_lowercase()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .map(|c| c as u8)
                    .collect(),
            })
            .collect();
        let n = letters.len();
        (n <= initials.len()
            && (0..=initials.len() - n).any(|start| {
                letters
                    .iter()
                    .enumerate()
                    .all(|(j, l)| initials[start + j].contains(l))
            }))
        .then_some(2)
    }
}

fn cut(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

impl App {
    /// Indicators, tasks, areas and departments matching `query` that the caller may read,
    /// best first, at most [`MAX_HITS`].
    pub async fn search(&self, caps: &Caps, query: &str) -> Result<Vec<Hit>> {
        let Some(m) = Matcher::new(query) else {
            return Ok(Vec::new());
        };
        let scope = caps.reader();
        let store = self.store();
        let policy = self.policy();
        let areas = policy.areas();
        let plans = store.list_plans(&scope).await?;
        let mut hits = Vec::new();
        let mut departments = BTreeSet::new();
        for p in &plans {
            let doc = store.plan(&scope, p.id).await?;
            for (i, ind) in doc.indicators.iter().enumerate() {
                if let Some(rank) = m.rank(&ind.name) {
                    hits.push(Hit {
                        kind: HitKind::Indicator,
                        title: ind.name.clone(),
                        context: p.title.clone(),
                        href: Some(format!("/plans/{}/indicators/{i}", p.id)),
                        rank,
                    });
                }
                if let Some(lead) = ind.lead_department() {
                    departments.insert((lead.to_string(), p.id, p.title.clone()));
                }
            }
            for t in &doc.tasks {
                if let Some(rank) = m.rank(&t.text) {
                    hits.push(Hit {
                        kind: HitKind::Task,
                        title: cut(&t.text, 80),
                        context: p.title.clone(),
                        href: Some(format!("/plans/{}/tasks/{}/progress", p.id, t.id)),
                        rank,
                    });
                }
                for u in t.responsible.iter().flat_map(|r| &r.units) {
                    departments.insert((u.clone(), p.id, p.title.clone()));
                }
            }
        }
        // A department named by several plans is one hit, under the first plan naming it.
        let mut seen = BTreeSet::new();
        for (name, plan, title) in departments {
            if !seen.insert(name.clone()) {
                continue;
            }
            if let Some(rank) = m.rank(&name) {
                hits.push(Hit {
                    kind: HitKind::Department,
                    title: name,
                    context: title,
                    href: Some(format!("/plans/{plan}/departments")),
                    rank,
                });
            }
        }
        for d in store.list_departments().await? {
            if !scope.area(&d.area) || seen.contains(&d.name) {
                continue;
            }
            seen.insert(d.name.clone());
            if let Some(rank) = m.rank(&d.name) {
                hits.push(Hit {
                    kind: HitKind::Department,
                    title: d.name,
                    context: areas.name(&d.area).unwrap_or_default().to_string(),
                    href: None,
                    rank,
                });
            }
        }
        // Areas: the readable ones, linked to the dashboard of the nearest plan above them.
        let plan_of = |code: &AreaCode| {
            let mut chain = vec![code.clone()];
            chain.extend(areas.ancestors(code));
            chain.iter().find_map(|a| {
                plans
                    .iter()
                    .find(|p| p.area_code.as_ref() == Some(a))
                    .map(|p| p.id)
            })
        };
        for a in store.list_areas().await? {
            if !scope.area(&a.code) {
                continue;
            }
            if let Some(rank) = m.rank(&a.name) {
                let parent = a
                    .parent
                    .as_ref()
                    .and_then(|p| areas.name(p))
                    .unwrap_or_default()
                    .to_string();
                hits.push(Hit {
                    kind: HitKind::Area,
                    href: plan_of(&a.code).map(|p| format!("/plans/{p}/dashboard?area={}", a.code)),
                    title: a.name,
                    context: parent,
                    rank,
                });
            }
        }
        hits.sort_by(|a, b| {
            (a.rank, a.kind, a.title.chars().count()).cmp(&(
                b.rank,
                b.kind,
                b.title.chars().count(),
            ))
        });
        hits.truncate(MAX_HITS);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::Matcher;

    fn rank(q: &str, s: &str) -> Option<u8> {
        Matcher::new(q).unwrap().rank(s)
    }

    #[test]
    fn chinese_text_matches_as_a_substring() {
        assert_eq!(rank("医疗", "医疗卫生机构数"), Some(0));
        assert_eq!(rank("卫生", "每千人口医疗卫生机构床位数"), Some(0));
        assert_eq!(rank("教育", "医疗卫生"), None);
    }

    #[test]
    fn pinyin_initials_and_whole_pinyin_match() {
        assert_eq!(rank("ylws", "医疗卫生"), Some(2));
        assert_eq!(rank("YLWS", "每千人口医疗卫生机构床位数"), Some(2));
        assert_eq!(rank("yiliao", "医疗卫生"), Some(1));
        // Heteronyms: 行 reads xing and hang; either initial matches.
        assert_eq!(rank("jkxd", "健康行动"), Some(2));
        assert_eq!(rank("jkhd", "健康行动"), Some(2));
        assert_eq!(rank("ylwx", "医疗卫生"), None);
        assert_eq!(rank("ylwsj", "医疗卫生"), None);
    }

    #[test]
    fn an_empty_query_matches_nothing() {
        assert!(Matcher::new("  ").is_none());
    }
}
