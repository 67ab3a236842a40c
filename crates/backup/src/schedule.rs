//! The scheduled backup `serve` runs: once per period across every process on the database,
//! keeping the newest few.

use crate::{backup, io, Result};
use healthplan_store::{Store, StoreConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Who the audit log names for scheduled backups.
pub const SCHEDULER: &str = "system:backup-schedule";
const PREFIX: &str = "healthplan-";
const SUFFIX: &str = ".zip";

#[derive(Debug, Clone)]
pub struct Schedule {
    pub dir: PathBuf,
    /// Backups kept in `dir` (older ones are deleted); at least one.
    pub keep: usize,
    pub every: Duration,
    /// Settings files to include.
    pub settings: Vec<PathBuf>,
}

/// Runs for ever: whenever this process claims the period's run, writes
/// `healthplan-<UTC time>.zip` into the directory, audits the outcome and prunes.
pub async fn run_schedule(store: Store, config: StoreConfig, s: Schedule) {
    let mut tick = tokio::time::interval(s.every.min(Duration::from_secs(60)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        match store.claim_job("backup", s.every).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim the scheduled backup");
                continue;
            }
        }
        let name = format!(
            "{PREFIX}{}{SUFFIX}",
            jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ")
        );
        match backup(&store, &config, &s.settings, &s.dir.join(name), SCHEDULER).await {
            Ok(w) => tracing::info!(
                file = %w.path.display(),
                bytes = w.bytes,
                seconds = w.seconds,
                "scheduled backup written"
            ),
            Err(e) => tracing::error!(error = %e, "scheduled backup failed"),
        }
        if let Err(e) = prune(&s.dir, s.keep) {
            tracing::warn!(error = %e, "old backups could not be removed");
        }
    }
}

/// Deletes all but the newest `keep` scheduled backups in `dir`; returns what it deleted.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .collect();
    // The names hold the UTC time, so they sort by age.
    found.sort();
    let old = found.len().saturating_sub(keep.max(1));
    let removed: Vec<PathBuf> = found.drain(..old).collect();
    for p in &removed {
        std::fs::remove_file(p).map_err(io(p))?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::prune;

    #[test]
    fn keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "healthplan-20260101T000000Z.zip",
            "healthplan-20260103T000000Z.zip",
            "healthplan-20260102T000000Z.zip",
            "other.zip",
        ] {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        let removed = prune(dir.path(), 2).unwrap();
        assert_eq!(
            removed,
            vec![dir.path().join("healthplan-20260101T000000Z.zip")]
        );
        assert!(dir.path().join("other.zip").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }
}
