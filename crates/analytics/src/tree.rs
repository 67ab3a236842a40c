//! The area tree in a flat pre-order (DFS) layout: a subtree is a contiguous index range, and
//! walking inner nodes backwards visits every child before its parent.

use crate::error::AnalyticsError;
use healthplan_core::{Area, AreaCode};
use std::collections::HashMap;

/// Marks "no such index" (a root's parent, a leaf's inner slot).
pub(crate) const NONE: u32 = u32::MAX;

/// Dense index of an area in the tree's pre-order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaId(pub u32);

/// An area tree of any depth (a forest is allowed: several roots).
#[derive(Debug, Clone)]
pub struct AreaTree {
    codes: Vec<AreaCode>,
    index: HashMap<AreaCode, u32>,
    parent: Vec<u32>,
    depth: Vec<u8>,
    /// Exclusive end of each area's subtree in pre-order.
    end: Vec<u32>,
    /// For a leaf its leaf index, for an inner area its inner index.
    slot: Vec<u32>,
    is_leaf: Vec<bool>,
    pub(crate) leaf_area: Vec<u32>,
    /// Inner index of each leaf's parent (`NONE` for a root leaf).
    pub(crate) leaf_parent: Vec<u32>,
    pub(crate) inner_area: Vec<u32>,
    /// Inner index of each inner area's parent; inner indexes are in pre-order.
    pub(crate) inner_parent: Vec<u32>,
}

impl AreaTree {
    /// Builds the tree from `(code, parent)` pairs in any order. Children keep their input order.
    pub fn new(
        areas: impl IntoIterator<Item = (AreaCode, Option<AreaCode>)>,
    ) -> Result<AreaTree, AnalyticsError> {
        let items: Vec<(AreaCode, Option<AreaCode>)> = areas.into_iter().collect();
        let mut pos: HashMap<&AreaCode, usize> = HashMap::with_capacity(items.len());
        for (i, (c, _)) in items.iter().enumerate() {
            if pos.insert(c, i).is_some() {
                return Err(AnalyticsError::DuplicateArea(c.to_string()));
            }
        }
        let n = items.len();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut roots = Vec::new();
        for (i, (c, p)) in items.iter().enumerate() {
            match p {
                None => roots.push(i),
                Some(p) => match pos.get(p) {
                    Some(&pi) => children[pi].push(i),
                    None => {
                        return Err(AnalyticsError::MissingParent {
                            child: c.to_string(),
                            parent: p.to_string(),
                        })
                    }
                },
            }
        }
        // Iterative DFS so a deep tree cannot overflow the stack.
        let mut order: Vec<usize> = Vec::with_capacity(n);
        let mut depth_of = vec![0u8; n];
        let mut stack: Vec<(usize, u8)> = roots.iter().rev().map(|&r| (r, 1)).collect();
        while let Some((i, d)) = stack.pop() {
            order.push(i);
            depth_of[i] = d;
            if !children[i].is_empty() && d == u8::MAX {
                return Err(AnalyticsError::TooDeep(u8::MAX as usize));
            }
            for &c in children[i].iter().rev() {
                stack.push((c, d + 1));
            }
        }
        if order.len() != n {
            let mut seen = vec![false; n];
            for &i in &order {
                seen[i] = true;
            }
            let stuck: Vec<String> = (0..n)
                .filter(|&i| !seen[i])
                .take(5)
                .map(|i| items[i].0.to_string())
                .collect();
            return Err(AnalyticsError::Cycle(stuck.join(", ")));
        }
        let mut new_of = vec![0u32; n];
        for (k, &i) in order.iter().enumerate() {
            new_of[i] = k as u32;
        }
        let mut t = AreaTree {
            codes: Vec::with_capacity(n),
            index: HashMap::with_capacity(n),
            parent: vec![NONE; n],
            depth: vec![0; n],
            end: vec![0; n],
            slot: vec![NONE; n],
            is_leaf: vec![false; n],
            leaf_area: Vec::new(),
            leaf_parent: Vec::new(),
            inner_area: Vec::new(),
            inner_parent: Vec::new(),
        };
        for (k, &i) in order.iter().enumerate() {
            t.codes.push(items[i].0.clone());
            t.index.insert(items[i].0.clone(), k as u32);
            t.parent[k] = items[i].1.as_ref().map_or(NONE, |p| new_of[pos[p]]);
            t.depth[k] = depth_of[i];
            t.is_leaf[k] = children[i].is_empty();
        }
        // Subtree ends: walk backwards, a node's end is the max end of its children or itself+1.
        for k in (0..n).rev() {
            if t.end[k] == 0 {
                t.end[k] = k as u32 + 1;
            }
            let p = t.parent[k];
            if p != NONE {
                let e = t.end[k];
                if e > t.end[p as usize] {
                    t.end[p as usize] = e;
                }
            }
        }
        for k in 0..n {
            if t.is_leaf[k] {
                t.slot[k] = t.leaf_area.len() as u32;
                t.leaf_area.push(k as u32);
            } else {
                t.slot[k] = t.inner_area.len() as u32;
                t.inner_area.push(k as u32);
            }
        }
        // The parent's slot among the inner areas, for leaves and inner areas alike.
        let parent_slot = |&a: &u32| match t.parent[a as usize] {
            NONE => NONE,
            p => t.slot[p as usize],
        };
        let leaf_parent = t.leaf_area.iter().map(parent_slot).collect();
        let inner_parent = t.inner_area.iter().map(parent_slot).collect();
        t.leaf_parent = leaf_parent;
        t.inner_parent = inner_parent;
        Ok(t)
    }

    /// Builds the tree from domain areas.
    pub fn from_areas<'a>(
        areas: impl IntoIterator<Item = &'a Area>,
    ) -> Result<AreaTree, AnalyticsError> {
        AreaTree::new(
            areas
                .into_iter()
                .map(|a| (a.code.clone(), a.parent.clone())),
        )
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    pub fn leaf_count(&self) -> usize {
        self.leaf_area.len()
    }

    pub fn inner_count(&self) -> usize {
        self.inner_area.len()
    }

    pub fn id(&self, code: &AreaCode) -> Result<AreaId, AnalyticsError> {
        self.index
            .get(code)
            .map(|&i| AreaId(i))
            .ok_or_else(|| AnalyticsError::UnknownArea(code.to_string()))
    }

    pub fn code(&self, a: AreaId) -> &AreaCode {
        &self.codes[a.0 as usize]
    }

    /// Depth in the tree; a root is level 1.
    pub fn level(&self, a: AreaId) -> u8 {
        self.depth[a.0 as usize]
    }

    pub fn parent(&self, a: AreaId) -> Option<AreaId> {
        let p = self.parent[a.0 as usize];
        (p != NONE).then_some(AreaId(p))
    }

    pub fn is_leaf(&self, a: AreaId) -> bool {
        self.is_leaf[a.0 as usize]
    }

    /// The area itself and every descendant, in pre-order.
    pub fn subtree(&self, a: AreaId) -> impl Iterator<Item = AreaId> {
        (a.0..self.end[a.0 as usize]).map(AreaId)
    }

    /// True when `a` is `anc` or lies below it.
    pub fn is_within(&self, a: AreaId, anc: AreaId) -> bool {
        anc.0 <= a.0 && a.0 < self.end[anc.0 as usize]
    }

    /// Every area at `level` in `under`'s subtree (`under` itself when the levels are equal).
    pub fn at_level_under(&self, level: u8, under: AreaId) -> Result<Vec<AreaId>, AnalyticsError> {
        let ul = self.level(under);
        if level < ul {
            return Err(AnalyticsError::BadLevel {
                level,
                under: self.code(under).to_string(),
                under_level: ul,
            });
        }
        Ok(self
            .subtree(under)
            .filter(|&a| self.depth[a.0 as usize] == level)
            .collect())
    }

    pub fn all(&self) -> impl Iterator<Item = AreaId> {
        (0..self.codes.len() as u32).map(AreaId)
    }

    pub(crate) fn slot(&self, a: AreaId) -> u32 {
        self.slot[a.0 as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> AreaCode {
        AreaCode::parse(s).unwrap()
    }

    #[test]
    fn lays_out_pre_order_with_subtree_ranges() {
        // Given out of order on purpose.
        let t = AreaTree::new([
            (c("440301"), Some(c("440300"))),
            (c("440000"), None),
            (c("440300"), Some(c("440000"))),
            (c("440100"), Some(c("440000"))),
            (c("440302"), Some(c("440300"))),
        ])
        .unwrap();
        let gd = t.id(&c("440000")).unwrap();
        let sz = t.id(&c("440300")).unwrap();
        assert_eq!(gd, AreaId(0));
        assert_eq!(t.subtree(gd).count(), 5);
        assert_eq!(t.subtree(sz).count(), 3);
        assert_eq!(t.level(sz), 2);
        assert_eq!(t.at_level_under(3, gd).unwrap().len(), 2);
        assert_eq!(t.at_level_under(2, sz).unwrap(), vec![sz]);
        assert!(t.at_level_under(1, sz).is_err());
        assert_eq!(t.leaf_count(), 3);
        assert_eq!(t.inner_count(), 2);
        assert!(t.is_within(t.id(&c("440302")).unwrap(), sz));
        assert!(!t.is_within(t.id(&c("440100")).unwrap(), sz));
    }

    #[test]
    fn refuses_broken_trees_naming_the_area() {
        let dup = AreaTree::new([(c("440000"), None), (c("440000"), None)]).unwrap_err();
        assert!(dup.to_string().contains("440000"));
        let orphan = AreaTree::new([(c("440300"), Some(c("440000")))]).unwrap_err();
        assert!(orphan.to_string().contains("440000"), "{orphan}");
        let cycle = AreaTree::new([
            (c("440000"), None),
            (c("440300"), Some(c("440301"))),
            (c("440301"), Some(c("440300"))),
        ])
        .unwrap_err();
        assert!(matches!(cycle, AnalyticsError::Cycle(_)), "{cycle}");
    }
}
