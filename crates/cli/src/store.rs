//! Opening the database from the global options; every storage-backed command starts here.

use crate::Globals;
use anyhow::Context;
use healthplan_app::store::{Store, StoreConfig};

/// Where the global options say the data is.
pub fn config(g: &Globals) -> StoreConfig {
    StoreConfig::new(&g.data_dir, g.database_url.clone())
}

/// Opens (creating and migrating if needed) the database `--data-dir` / `DATABASE_URL` name.
pub async fn open(g: &Globals) -> anyhow::Result<Store> {
    let config = config(g);
    let what = match &config.database_url {
        Some(_) => "the database named by DATABASE_URL".to_string(),
        None => format!("the database in {}", config.sqlite_path().display()),
    };
    Store::open(&config)
        .await
        .with_context(|| format!("cannot open {what}"))
}

/// The operator's capabilities at the command line: every right (the operator owns the
/// database), judged on the stored area tree.
pub struct Local {
    pub caps: healthplan_access::Caps,
}

impl Local {
    pub async fn of(store: &Store) -> anyhow::Result<Local> {
        let policy = healthplan_app::load_policy(store).await?;
        Ok(Local {
            caps: healthplan_access::Caps::local(policy, &actor()),
        })
    }

    fn right<T>(r: Option<T>) -> anyhow::Result<T> {
        r.ok_or_else(|| anyhow::anyhow!("the command line lacks a right it always has"))
    }

    pub fn reader(&self) -> healthplan_access::ReadScope {
        self.caps.reader()
    }
    pub fn editor(&self) -> anyhow::Result<healthplan_access::PlanEditor> {
        Self::right(self.caps.plan_editor())
    }
    pub fn registry(&self) -> anyhow::Result<healthplan_access::RegistryAdmin> {
        Self::right(self.caps.registry_admin())
    }
    pub fn bulk(&self) -> anyhow::Result<healthplan_access::BulkWriter> {
        Self::right(self.caps.bulk_writer())
    }
    pub fn users(&self) -> anyhow::Result<healthplan_access::UserAdmin> {
        Self::right(self.caps.user_admin())
    }
}

/// Who the audit log records for changes made from the command line:
/// `HEALTHPLAN_ACTOR`, else the login name, prefixed `cli:`.
pub fn actor() -> String {
    let name = ["HEALTHPLAN_ACTOR", "USER", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into());
    format!("cli:{}", name.trim())
}

/// Prints to stdout; a closed pipe (`healthplan plan export 1 --json | head`) ends the
/// output quietly instead of panicking like `println!`.
pub fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
