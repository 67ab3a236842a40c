//! Access control by type. A signed-in user (or an API token, or the local command line)
//! becomes [`Caps`]; from it a caller asks for the capability an action needs —
//! [`Caps::value_writer`], [`Caps::reviewer`], [`Caps::plan_editor`], [`Caps::user_admin`] …
//! — and gets `None` without the right. The store's write methods take these capabilities and
//! check each row against them, so code that was not handed a capability cannot write, and
//! code that was can write only inside its scope. Reads go through a [`ReadScope`] the same
//! way.
//!
//! Capabilities have private fields and no public constructors: they come only from [`Caps`],
//! which comes only from a [`Policy`] (the area tree and who is responsible for what) and a
//! stored user, or from [`Caps::local`] for the operator at the command line.

mod dept;
pub mod password;
mod policy;

pub use dept::department_key;
pub use policy::{AreaIndex, Policy, Responsibilities};

use healthplan_core::{AreaCode, Grant, PlanStatus, Role, User};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Why an action was refused, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct Denied {
    pub zh: String,
    pub en: String,
}

impl Denied {
    fn new(zh: impl Into<String>, en: impl Into<String>) -> Denied {
        Denied {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// How the caller proved who they are; recorded with every change they make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session,
    /// A personal API token, by id.
    Token(i64),
    /// The command line on the server itself.
    Local,
}

/// The caller behind a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    pub via: Via,
}

impl Principal {
    pub fn from_user(user: &User, via: Via) -> Principal {
        Principal {
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            grants: user.grants.clone(),
            via,
        }
    }
}

/// One area subtree, optionally narrowed to some departments (by [`department_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Scope {
    root: AreaCode,
    /// `None`: every department.
    departments: Option<BTreeSet<String>>,
}

/// Everything the caller may do, derived from their grants. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Caps {
    policy: Arc<Policy>,
    principal: Option<Principal>,
    /// The command line: every right, scoped to nothing.
    local: bool,
}

impl Caps {
    pub(crate) fn new(policy: Arc<Policy>, principal: Option<Principal>) -> Caps {
        Caps {
            policy,
            principal,
            local: false,
        }
    }

    /// The operator at the command line, who owns the database: every right. The server never
    /// calls this (a test checks), it derives capabilities from the signed-in user.
    pub fn local(policy: Arc<Policy>, actor: &str) -> Caps {
        Caps {
            policy,
            principal: Some(Principal {
                username: actor.to_string(),
                display_name: actor.to_string(),
                grants: Vec::new(),
                via: Via::Local,
            }),
            local: true,
        }
    }

    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    pub fn is_signed_in(&self) -> bool {
        self.principal.is_some()
    }

    pub fn username(&self) -> Option<&str> {
        self.principal.as_ref().map(|p| p.username.as_str())
    }

    /// Who the audit log records: the user name, with the token id when a token was used.
    pub fn actor(&self) -> String {
        match &self.principal {
            None => "public".into(),
            Some(p) => match p.via {
                Via::Token(id) => format!("{} (token {id})", p.username),
                Via::Session | Via::Local => p.username.clone(),
            },
        }
    }

    pub fn is_admin(&self) -> bool {
        self.local || self.has_role(Role::Admin)
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.principal
            .as_ref()
            .is_some_and(|p| p.grants.iter().any(|g| g.role == role))
    }

    /// The roles the caller holds, strongest first.
    pub fn roles(&self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|r| self.local && *r == Role::Admin || self.has_role(*r))
            .collect()
    }

    fn scopes(&self, roles: &[Role], with_departments: bool) -> Vec<Scope> {
        let Some(p) = &self.principal else {
            return Vec::new();
        };
        p.grants
            .iter()
            .filter(|g| roles.contains(&g.role))
            .map(|g| Scope {
                root: g.area.clone(),
                departments: (with_departments && !g.departments.is_empty()).then(|| {
                    g.departments
                        .iter()
                        .map(|d| self.policy.department_key(d))
                        .collect()
                }),
            })
            .collect()
    }

    /// What the caller may read. Everyone gets one: the public reads published plans only.
    pub fn reader(&self) -> ReadScope {
        let kind = if self.is_admin() {
            ReadKind::All
        } else if self.principal.is_some() {
            ReadKind::Areas(
                self.scopes(&Role::ALL, false)
                    .into_iter()
                    .map(|s| s.root)
                    .collect(),
            )
        } else {
            ReadKind::Public
        };
        ReadScope {
            policy: self.policy.clone(),
            kind,
        }
    }

    /// Entering values (reporters in their areas and departments; admins).
    pub fn value_writer(&self) -> Option<ValueWriter> {
        self.writer(Role::Reporter).map(ValueWriter)
    }

    /// Reporting task progress (reporters for tasks their departments are responsible for).
    pub fn progress_writer(&self) -> Option<ProgressWriter> {
        self.writer(Role::Reporter).map(ProgressWriter)
    }

    fn writer(&self, role: Role) -> Option<Scoped> {
        let scopes = if self.is_admin() {
            Vec::new()
        } else {
            let s = self.scopes(&[role], true);
            if s.is_empty() {
                return None;
            }
            s
        };
        Some(self.scoped(scopes))
    }

    fn planner(&self) -> Option<Scoped> {
        let scopes = if self.is_admin() {
            Vec::new()
        } else {
            let s = self.scopes(&[Role::Planner], false);
            if s.is_empty() {
                return None;
            }
            s
        };
        Some(self.scoped(scopes))
    }

    fn scoped(&self, scopes: Vec<Scope>) -> Scoped {
        Scoped {
            actor: self.actor(),
            all: self.is_admin(),
            scopes,
            policy: self.policy.clone(),
        }
    }

    /// Approving, returning and reopening values and task reports (planners in their
    /// subtree; admins).
    pub fn reviewer(&self) -> Option<Reviewer> {
        self.planner().map(Reviewer)
    }

    /// Editing, confirming and publishing plans and their element links (planners whose
    /// subtree holds the plan's area; admins).
    pub fn plan_editor(&self) -> Option<PlanEditor> {
        self.planner().map(PlanEditor)
    }

    /// Opening and closing reporting rounds (planners; admins).
    pub fn round_manager(&self) -> Option<RoundManager> {
        self.planner().map(RoundManager)
    }

    /// Editing the DHIS2 code mapping table (planners; admins). The table is shared by the
    /// whole instance, so it is not scoped to an area.
    pub fn mapping_editor(&self) -> Option<MappingEditor> {
        self.planner().map(|s| {
            MappingEditor(Scoped {
                scopes: Vec::new(),
                ..s
            })
        })
    }

    /// Acknowledging, commenting on and closing alerts: planners in their subtree, and
    /// reporters for alerts addressed to their departments in their areas.
    pub fn alert_handler(&self) -> Option<AlertHandler> {
        if self.is_admin() {
            return Some(AlertHandler(self.scoped(Vec::new())));
        }
        let mut scopes = self.scopes(&[Role::Planner], false);
        scopes.extend(self.scopes(&[Role::Reporter], true));
        (!scopes.is_empty()).then(|| AlertHandler(self.scoped(scopes)))
    }

    /// Managing users, grants and tokens of others (admins).
    pub fn user_admin(&self) -> Option<UserAdmin> {
        self.is_admin().then(|| UserAdmin(self.scoped(Vec::new())))
    }

    /// Editing the area tree, departments and data elements (admins).
    pub fn registry_admin(&self) -> Option<RegistryAdmin> {
        self.is_admin()
            .then(|| RegistryAdmin(self.scoped(Vec::new())))
    }

    /// Writing many values at once in any status, e.g. a file import (admins).
    pub fn bulk_writer(&self) -> Option<BulkWriter> {
        self.is_admin().then(|| BulkWriter(self.scoped(Vec::new())))
    }

    /// Managing one's own API tokens and password (any signed-in user).
    pub fn self_service(&self) -> Option<SelfService> {
        let p = self.principal.as_ref()?;
        Some(SelfService {
            actor: self.actor(),
            username: p.username.clone(),
        })
    }
}

/// The common body of the scoped capabilities.
#[derive(Debug, Clone)]
struct Scoped {
    actor: String,
    all: bool,
    scopes: Vec<Scope>,
    policy: Arc<Policy>,
}

impl Scoped {
    fn area_ok(&self, area: &AreaCode) -> bool {
        self.all
            || self
                .scopes
                .iter()
                .any(|s| self.policy.areas().is_within(area, &s.root))
    }

    fn denied_area(&self, area: &AreaCode) -> Denied {
        let name = self.policy.areas().name(area).unwrap_or(area.as_str());
        Denied::new(
            format!("无权操作{name}（{area}）的数据"),
            format!("{area} {name} is outside your areas"),
        )
    }

    /// Area inside a scope whose departments cover one of `responsible`.
    fn check_departments(
        &self,
        area: &AreaCode,
        responsible: &BTreeSet<String>,
        what: &str,
    ) -> Result<(), Denied> {
        if self.all {
            return Ok(());
        }
        let mut area_ok = false;
        for s in &self.scopes {
            if !self.policy.areas().is_within(area, &s.root) {
                continue;
            }
            area_ok = true;
            match &s.departments {
                None => return Ok(()),
                Some(d) if d.iter().any(|d| responsible.contains(d)) => return Ok(()),
                Some(_) => {}
            }
        }
        if !area_ok {
            return Err(self.denied_area(area));
        }
        Err(Denied::new(
            format!("{what}不属于您的部门负责"),
            format!("{what} is not among your departments' responsibilities"),
        ))
    }
}

/// May enter values (draft, submit) for elements its departments are responsible for, in
/// its areas.
#[derive(Debug, Clone)]
pub struct ValueWriter(Scoped);

impl ValueWriter {
    pub fn actor(&self) -> &str {
        &self.0.actor
    }

    pub fn check(&self, element: &str, area: &AreaCode) -> Result<(), Denied> {
        let responsible = self.0.policy.responsibilities().element(element);
        self.0
            .check_departments(area, &responsible, &format!("数据元 {element}"))
    }

    /// Whether `check` would pass, for filtering forms.
    pub fn allows(&self, element: &str, area: &AreaCode) -> bool {
        self.check(element, area).is_ok()
    }
}

/// May report progress on tasks its departments are responsible for, in its areas.
#[derive(Debug, Clone)]
pub struct ProgressWriter(Scoped);

impl ProgressWriter {
    pub fn actor(&self) -> &str {
        &self.0.actor
    }

    pub fn check(&self, plan_id: i64, task: &str, area: &AreaCode) -> Result<(), Denied> {
        let responsible = self.0.policy.responsibilities().task(plan_id, task);
        self.0
            .check_departments(area, &responsible, &format!("任务 {task}"))
    }

    /// Whether a report for `area` belongs to a plan of `plan_area`: the area lies in the
    /// plan's tree and in the caller's areas (so the caller reads the plan). Otherwise the
    /// task is as good as absent to this caller. Administrators write anywhere.
    pub fn within_plan(&self, plan_area: Option<&AreaCode>, area: &AreaCode) -> bool {
        self.0.all
            || plan_area
                .is_some_and(|p| self.0.policy.areas().is_within(area, p) && self.0.area_ok(area))
    }
}

/// May handle alerts of its areas (and, when narrowed, addressed to its departments).
#[derive(Debug, Clone)]
pub struct AlertHandler(Scoped);

impl AlertHandler {
    pub fn actor(&self) -> &str {
        &self.0.actor
    }

    pub fn check(&self, area: &AreaCode, department: Option<&str>) -> Result<(), Denied> {
        let responsible: BTreeSet<String> = department
            .map(|d| self.0.policy.department_key(d))
            .into_iter()
            .collect();
        self.0.check_departments(area, &responsible, "该预警")
    }
}

macro_rules! area_capability {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone)]
        pub struct $name(Scoped);

        impl $name {
            pub fn actor(&self) -> &str {
                &self.0.actor
            }

            /// Whether the area is inside this capability's subtrees.
            pub fn check_area(&self, area: &AreaCode) -> Result<(), Denied> {
                if self.0.area_ok(area) {
                    Ok(())
                } else {
                    Err(self.0.denied_area(area))
                }
            }

            /// Like [`Self::check_area`] for something that may have no known area (only
            /// admins act on those).
            pub fn check_optional_area(&self, area: Option<&AreaCode>) -> Result<(), Denied> {
                match area {
                    Some(a) => self.check_area(a),
                    None if self.0.all => Ok(()),
                    None => Err(Denied::new(
                        "该对象未关联行政区划，仅管理员可操作",
                        "it is not linked to an area; only an administrator may change it",
                    )),
                }
            }
        }
    };
}

area_capability!(
    /// May approve, return and reopen values and task reports in its subtrees.
    Reviewer
);

impl Reviewer {
    /// Four eyes: nobody approves what they submitted themselves (a token acts for its
    /// owner). `required` is the instance's setting, which an administrator may turn off.
    pub fn check_not_submitter(
        &self,
        submitter: &str,
        what: &str,
        required: bool,
    ) -> Result<(), Denied> {
        let person = |actor: &str| actor.split(" (token ").next().unwrap_or(actor).to_string();
        if required && person(&self.0.actor) == person(submitter) {
            return Err(Denied::new(
                format!("{what} 由您本人提交，须由另一人审核通过"),
                format!("you submitted {what} yourself; someone else must approve it"),
            ));
        }
        Ok(())
    }
}
area_capability!(
    /// May edit, confirm and publish plans of areas in its subtrees.
    PlanEditor
);
area_capability!(
    /// May open and close reporting rounds for plans and areas in its subtrees.
    RoundManager
);

macro_rules! admin_capability {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone)]
        pub struct $name(Scoped);

        impl $name {
            pub fn actor(&self) -> &str {
                &self.0.actor
            }
        }
    };
}

admin_capability!(
    /// May create, change and disable users and grants.
    UserAdmin
);
admin_capability!(
    /// May change the area tree, departments and data elements.
    RegistryAdmin
);
admin_capability!(
    /// May write many values at once in any workflow status.
    BulkWriter
);
admin_capability!(
    /// May change the DHIS2 code mapping table (planners and admins).
    MappingEditor
);

/// May change its own password and API tokens.
#[derive(Debug, Clone)]
pub struct SelfService {
    actor: String,
    username: String,
}

impl SelfService {
    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn username(&self) -> &str {
        &self.username
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ReadKind {
    All,
    /// Grant roots: their subtrees, and plans of their ancestors.
    Areas(Vec<AreaCode>),
    /// Published plans only, no data values.
    Public,
}

/// What a caller may read; every store read that returns scoped data takes one.
#[derive(Debug, Clone)]
pub struct ReadScope {
    policy: Arc<Policy>,
    kind: ReadKind,
}

impl ReadScope {
    pub fn is_public(&self) -> bool {
        self.kind == ReadKind::Public
    }

    pub fn is_all(&self) -> bool {
        self.kind == ReadKind::All
    }

    /// Data of this area (values, progress, evaluations).
    pub fn area(&self, area: &AreaCode) -> bool {
        match &self.kind {
            ReadKind::All => true,
            ReadKind::Public => false,
            ReadKind::Areas(roots) => roots.iter().any(|r| self.policy.areas().is_within(area, r)),
        }
    }

    /// A plan of this area in this status. Users read the plans of their subtrees and of
    /// the levels above them (which they report against and align with); the public reads
    /// published plans.
    pub fn plan(&self, area: Option<&AreaCode>, status: PlanStatus) -> bool {
        match &self.kind {
            ReadKind::All => true,
            ReadKind::Public => status == PlanStatus::Published,
            ReadKind::Areas(roots) => area.is_some_and(|a| {
                roots.iter().any(|r| {
                    self.policy.areas().is_within(a, r) || self.policy.areas().is_within(r, a)
                })
            }),
        }
    }

    /// The area tree the scope is judged on (the tree itself is public).
    pub fn area_index(&self) -> &AreaIndex {
        self.policy.areas()
    }

    /// The roots of the readable subtrees (`None` for everything).
    pub fn roots(&self) -> Option<&[AreaCode]> {
        match &self.kind {
            ReadKind::All => None,
            ReadKind::Public => Some(&[]),
            ReadKind::Areas(r) => Some(r),
        }
    }
}

#[cfg(test)]
mod tests;
