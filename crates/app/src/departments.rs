//! Departments as managed records: the registered ones with those the plans name, variant
//! spellings grouped under one department through the alias table, and an admin's merge of a
//! variant into a department (which the access policy, the forms and later imports follow).

use crate::{App, Result};
use healthplan_access::{department_key, RegistryAdmin};
use healthplan_core::PlanDocument;
use serde::Serialize;
use std::collections::BTreeMap;

/// One department as the admin list shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DepartmentEntry {
    /// The name it goes by (the registered name, else the one an alias points to, else the
    /// first spelling a plan uses).
    pub name: String,
    /// Areas it is registered in (codes); empty when only plans name it.
    pub areas: Vec<String>,
    /// Indicators and tasks of stored plans that name it (under any of its names).
    pub named_by: usize,
    /// Other spellings: merged aliases and variants the plans use.
    pub aliases: Vec<String>,
}

impl App {
    /// Registered departments and those the stored plans name, one entry per department
    /// (variants that resolve to it listed as its aliases), by name.
    pub async fn department_directory(&self) -> Result<Vec<DepartmentEntry>> {
        let store = self.store();
        let policy = self.policy();
        let registered = store.list_departments().await?;
        let aliases = store.list_department_aliases().await?;
        let rows = store.responsibilities().await?;
        let mut named: Vec<String> = rows.elements.iter().map(|(_, d)| d.clone()).collect();
        for (_, _, units) in &rows.tasks {
            named.extend(units.iter().cloned());
        }
        #[derive(Default)]
        struct Group {
            name: Option<String>,
            first: Option<String>,
            areas: Vec<String>,
            named_by: usize,
            spellings: Vec<String>,
        }
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for d in &registered {
            let g = groups.entry(policy.department_key(&d.name)).or_default();
            g.name.get_or_insert_with(|| d.name.clone());
            g.areas.push(d.area.to_string());
        }
        for (variant, department) in &aliases {
            let g = groups.entry(policy.department_key(department)).or_default();
            g.name.get_or_insert_with(|| department.clone());
            g.spellings.push(variant.clone());
        }
        for n in named.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let g = groups.entry(policy.department_key(n)).or_default();
            g.named_by += 1;
            g.first.get_or_insert_with(|| n.to_string());
            g.spellings.push(n.to_string());
        }
        let mut out: Vec<DepartmentEntry> = groups
            .into_values()
            .filter_map(|g| {
                let name = g.name.or(g.first)?;
                let mut aliases: Vec<String> =
                    g.spellings.into_iter().filter(|s| *s != name).collect();
                aliases.sort();
                aliases.dedup();
                let mut areas = g.areas;
                areas.sort();
                areas.dedup();
                Some(DepartmentEntry {
                    name,
                    areas,
                    named_by: g.named_by,
                    aliases,
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Makes `variant` an alias of `department`; grants, plans and forms naming the variant
    /// then mean the department.
    pub async fn merge_department(
        &self,
        by: &RegistryAdmin,
        variant: &str,
        department: &str,
    ) -> Result<()> {
        self.store()
            .merge_department(by, variant, department)
            .await?;
        self.refresh_policy().await
    }

    /// A plan document with every department name that is a known variant written as its
    /// department (an import reads what the document says; the alias table says who that is).
    pub(crate) async fn resolve_departments(&self, doc: &PlanDocument) -> Result<PlanDocument> {
        let aliases = self.store().list_department_aliases().await?;
        if aliases.is_empty() {
            return Ok(doc.clone());
        }
        let area_names: Vec<String> = self
            .store()
            .list_areas()
            .await?
            .into_iter()
            .map(|a| a.name)
            .collect();
        Ok(apply_aliases(doc, &aliases, &area_names))
    }
}

/// `doc` with units and leads that are variants replaced by their department's name.
pub fn apply_aliases(
    doc: &PlanDocument,
    aliases: &[(String, String)],
    area_names: &[String],
) -> PlanDocument {
    let by_key: BTreeMap<String, &str> = aliases
        .iter()
        .map(|(v, d)| (department_key(v, area_names), d.as_str()))
        .collect();
    let resolve = |name: &mut String| {
        if let Some(d) = by_key.get(&department_key(name, area_names)) {
            *name = (*d).to_string();
        }
    };
    let mut doc = doc.clone();
    for t in &mut doc.tasks {
        if let Some(r) = &mut t.responsible {
            r.units.iter_mut().for_each(resolve);
            if let Some(l) = &mut r.lead {
                resolve(l);
            }
        }
    }
    for i in &mut doc.indicators {
        if let Some(l) = &mut i.lead {
            resolve(l);
        }
    }
    doc
}
