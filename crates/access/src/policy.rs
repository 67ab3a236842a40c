//! The facts access decisions rest on: the area tree and who is responsible for what.

use crate::{department_key, Caps, Principal, Via};
use healthplan_core::{Area, AreaCode, User};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The area tree as parent links, for "is this area inside that subtree".
#[derive(Debug, Clone, Default)]
pub struct AreaIndex {
    parent: HashMap<AreaCode, Option<AreaCode>>,
    name: HashMap<AreaCode, String>,
}

impl AreaIndex {
    pub fn new(areas: &[Area]) -> AreaIndex {
        AreaIndex {
            parent: areas
                .iter()
                .map(|a| (a.code.clone(), a.parent.clone()))
                .collect(),
            name: areas
                .iter()
                .map(|a| (a.code.clone(), a.name.clone()))
                .collect(),
        }
    }

    pub fn contains(&self, a: &AreaCode) -> bool {
        self.parent.contains_key(a)
    }

    pub fn name(&self, a: &AreaCode) -> Option<&str> {
        self.name.get(a).map(String::as_str)
    }

    /// `a` is `root` or below it. Unknown areas are inside nothing.
    pub fn is_within(&self, a: &AreaCode, root: &AreaCode) -> bool {
        let mut cur = Some(a);
        // The store keeps the tree acyclic; the bound only guards against a broken one.
        for _ in 0..=self.parent.len() {
            match cur {
                Some(c) if c == root => return self.contains(c),
                Some(c) => cur = self.parent.get(c).and_then(Option::as_ref),
                None => return false,
            }
        }
        false
    }

    /// `root` and every area below it.
    pub fn subtree(&self, root: &AreaCode) -> Vec<AreaCode> {
        let mut out: Vec<AreaCode> = self
            .parent
            .keys()
            .filter(|a| self.is_within(a, root))
            .cloned()
            .collect();
        out.sort();
        out
    }

    /// The parent chain of `a`, nearest first.
    pub fn ancestors(&self, a: &AreaCode) -> Vec<AreaCode> {
        let mut out = Vec::new();
        let mut cur = self.parent.get(a).and_then(Option::as_ref);
        while let Some(c) = cur {
            if out.contains(c) || out.len() > self.parent.len() {
                break;
            }
            out.push(c.clone());
            cur = self.parent.get(c).and_then(Option::as_ref);
        }
        out
    }
}

/// Which departments answer for each data element (the leads of the indicators linked to
/// it) and for each task (its responsible units), as written in the plans.
#[derive(Debug, Clone, Default)]
pub struct Responsibilities {
    elements: HashMap<String, BTreeSet<String>>,
    tasks: HashMap<(i64, String), BTreeSet<String>>,
}

impl Responsibilities {
    pub fn add_element(&mut self, element: &str, department: &str) {
        self.elements
            .entry(element.to_string())
            .or_default()
            .insert(department.to_string());
    }

    pub fn add_task<'a>(
        &mut self,
        plan_id: i64,
        task: &str,
        departments: impl IntoIterator<Item = &'a String>,
    ) {
        self.tasks
            .entry((plan_id, task.to_string()))
            .or_default()
            .extend(departments.into_iter().cloned());
    }

    /// Department keys responsible for an element (empty when no indicator names a lead).
    pub fn element(&self, element: &str) -> BTreeSet<String> {
        self.elements.get(element).cloned().unwrap_or_default()
    }

    pub fn task(&self, plan_id: i64, task: &str) -> BTreeSet<String> {
        self.tasks
            .get(&(plan_id, task.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    fn normalised(self, key: impl Fn(&str) -> String) -> Responsibilities {
        let key = |set: BTreeSet<String>| set.iter().map(|d| key(d)).collect();
        Responsibilities {
            elements: self
                .elements
                .into_iter()
                .map(|(k, v)| (k, key(v)))
                .collect(),
            tasks: self.tasks.into_iter().map(|(k, v)| (k, key(v))).collect(),
        }
    }
}

/// The area tree and the responsibilities, from which callers get their [`Caps`]. Rebuilt
/// when areas, plans or links change; held behind an `Arc`.
#[derive(Debug, Default)]
pub struct Policy {
    areas: AreaIndex,
    area_names: Vec<String>,
    responsibilities: Responsibilities,
    /// A variant's key → its department's key (市文化广电旅游体育局 → 文广旅体局).
    aliases: BTreeMap<String, String>,
}

impl Policy {
    pub fn new(areas: &[Area], responsibilities: Responsibilities) -> Arc<Policy> {
        Policy::with_aliases(areas, responsibilities, &[])
    }

    /// As [`Policy::new`], with department aliases `(variant, department)`: a grant or a
    /// plan naming the variant means the department.
    pub fn with_aliases(
        areas: &[Area],
        responsibilities: Responsibilities,
        aliases: &[(String, String)],
    ) -> Arc<Policy> {
        let area_names: Vec<String> = areas.iter().map(|a| a.name.clone()).collect();
        let aliases: BTreeMap<String, String> = aliases
            .iter()
            .map(|(v, d)| {
                (
                    department_key(v, &area_names),
                    department_key(d, &area_names),
                )
            })
            .filter(|(v, d)| v != d)
            .collect();
        let mut p = Policy {
            areas: AreaIndex::new(areas),
            responsibilities: Responsibilities::default(),
            area_names,
            aliases,
        };
        p.responsibilities = responsibilities.normalised(|d| p.department_key(d));
        Arc::new(p)
    }

    pub fn areas(&self) -> &AreaIndex {
        &self.areas
    }

    pub fn responsibilities(&self) -> &Responsibilities {
        &self.responsibilities
    }

    /// [`department_key`] with the known area names.
    pub fn department_key(&self, name: &str) -> String {
        let key = department_key(name, &self.area_names);
        self.aliases.get(&key).cloned().unwrap_or(key)
    }

    /// The capabilities of a stored user. A disabled user has none beyond the public's.
    pub fn caps(self: &Arc<Self>, user: &User, via: Via) -> Caps {
        if user.disabled {
            return self.public();
        }
        Caps::new(self.clone(), Some(Principal::from_user(user, via)))
    }

    /// What anyone may do without signing in.
    pub fn public(self: &Arc<Self>) -> Caps {
        Caps::new(self.clone(), None)
    }
}
