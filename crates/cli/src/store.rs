//! Opening the database from the global options; every storage-backed command starts here.

use crate::Globals;
use anyhow::Context;
use healthplan_store::{Store, StoreConfig};

/// Opens (creating and migrating if needed) the database `--data-dir` / `DATABASE_URL` name.
pub async fn open(g: &Globals) -> anyhow::Result<Store> {
    let config = StoreConfig::new(&g.data_dir, g.database_url.clone());
    let what = match &config.database_url {
        Some(_) => "the database named by DATABASE_URL".to_string(),
        None => format!("the database in {}", config.sqlite_path().display()),
    };
    Store::open(&config)
        .await
        .with_context(|| format!("cannot open {what}"))
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
