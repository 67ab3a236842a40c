//! `healthplan backup` and `healthplan restore`.

use crate::Globals;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The backup file to write (a zip; written beside, then renamed into place).
    #[arg(long)]
    pub out: PathBuf,
    /// Settings files to include besides the configuration file in use (e.g. the scheme).
    #[arg(long = "settings")]
    pub settings: Vec<PathBuf>,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A file written by `healthplan backup` or the scheduled backup.
    pub file: PathBuf,
    /// Replace a database (or settings files) that already hold data.
    #[arg(long)]
    pub force: bool,
}

/// The settings files a backup carries: the configuration file in use, then those named.
pub fn settings_files(g: &Globals, named: &[PathBuf]) -> Vec<PathBuf> {
    g.config_file
        .iter()
        .chain(named)
        .cloned()
        .collect::<Vec<_>>()
}

pub async fn backup(a: BackupArgs, g: &Globals) -> anyhow::Result<()> {
    let store = crate::store::open(g).await?;
    let written = healthplan_backup::backup(
        &store,
        &crate::store::config(g),
        &settings_files(g, &a.settings),
        &a.out,
        &crate::store::actor(),
    )
    .await
    .with_context(|| format!("backup to {} failed", a.out.display()))?;
    store.close().await;
    let rows: i64 = written.manifest.rows.values().sum();
    crate::store::print(&format!(
        "backup written: {} ({} bytes, {} database, {rows} rows in {} tables, {} settings files, {:.1} s)\n",
        written.path.display(),
        written.bytes,
        written.manifest.backend,
        written.manifest.rows.len(),
        written.manifest.settings.len(),
        written.seconds,
    ))
}

pub async fn restore(a: RestoreArgs, g: &Globals) -> anyhow::Result<()> {
    let r = healthplan_backup::restore(&a.file, &crate::store::config(g), a.force)
        .await
        .with_context(|| format!("cannot restore {}", a.file.display()))?;
    let rows: i64 = r.rows.iter().map(|(_, n)| n).sum();
    let mut text = format!(
        "restored the {} backup of {} (healthplan {}): {rows} rows in {} tables, equal to the backup\n",
        r.manifest.backend,
        r.manifest.created_at,
        r.manifest.healthplan,
        r.rows.len(),
    );
    for s in &r.settings {
        text += &format!("settings file restored to {}\n", s.display());
    }
    crate::store::print(&text)
}
