//! Backups of a healthplan installation and the way back.
//!
//! A backup is one zip file: `manifest.json` (format, version, backend, row counts of the copy),
//! the database (`VACUUM INTO` of SQLite, compressed; `pg_dump --format=custom` of PostgreSQL,
//! taken in the snapshot the row counts were read in) and the settings files the server runs
//! with. Uploaded evidence lives in the database, so it comes along. It is written while the
//! server keeps serving and appears under its name only once complete.
//!
//! `restore` puts it into an empty data dir or database (a non-empty one only when forced),
//! migrates it forward if it came from an older release, and checks every table's row count
//! against the manifest.

mod pg;
mod schedule;

pub use schedule::{prune, run_schedule, Schedule, SCHEDULER};

use healthplan_store::{Store, StoreConfig, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Version of the file layout; `restore` refuses layouts it does not know.
pub const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const SQLITE_ENTRY: &str = "database/healthplan.db";
const PG_ENTRY: &str = "database/healthplan.pgdump";
const SETTINGS_PREFIX: &str = "settings/";
/// Where `restore` puts the settings files, inside the data dir.
pub const RESTORED_SETTINGS_DIR: &str = "settings";

#[derive(Debug, Error)]
pub enum BackupError {
    #[error("{path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("{path} is not a healthplan backup: {reason}")]
    NotABackup { path: String, reason: String },
    #[error("{program} is needed ({package} on Debian) and was not found")]
    ToolMissing {
        program: &'static str,
        package: &'static str,
    },
    #[error("{program} failed ({status}): {stderr}")]
    Tool {
        program: &'static str,
        status: String,
        stderr: String,
    },
    #[error("the backup holds a {found} database and the target is {target}: restore it {hint}")]
    WrongBackend {
        found: String,
        target: &'static str,
        hint: &'static str,
    },
    #[error("{0} already holds data: restore into an empty one, or pass --force to replace it")]
    NotEmpty(String),
    #[error("restored row counts differ from the backup's: {0}")]
    Mismatch(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T, E = BackupError> = std::result::Result<T, E>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |cause| BackupError::Io {
        path: path.display().to_string(),
        cause,
    }
}

/// What a backup file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The healthplan version that wrote it.
    pub healthplan: String,
    /// UTC, RFC 3339.
    pub created_at: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Row count of every table in the copy.
    pub rows: BTreeMap<String, i64>,
    /// File names of the settings files, under `settings/`.
    pub settings: Vec<String>,
}

/// A backup written.
#[derive(Debug, Clone)]
pub struct Written {
    pub manifest: Manifest,
    pub path: PathBuf,
    pub bytes: u64,
    pub seconds: f64,
}

/// Writes a backup of `store` (which `config` opened) and the `settings` files to `out`, and
/// audits the outcome as `actor`: a `backup` entry keyed by the file, or `backup_failure`.
pub async fn backup(
    store: &Store,
    config: &StoreConfig,
    settings: &[PathBuf],
    out: &Path,
    actor: &str,
) -> Result<Written> {
    let started = std::time::Instant::now();
    let result = write_backup(store, config, settings, out).await;
    let key = out.display().to_string();
    match &result {
        Ok((manifest, bytes)) => {
            let outcome = serde_json::json!({
                "bytes": bytes,
                "seconds": started.elapsed().as_secs_f64(),
                "backend": manifest.backend,
                "rows": manifest.rows.values().sum::<i64>(),
            });
            store
                .record_operation(actor, healthplan_store::BACKUP_ENTITY, &key, &outcome)
                .await?;
        }
        Err(e) => {
            let outcome = serde_json::json!({"error": e.to_string()});
            if let Err(audit) = store
                .record_operation(
                    actor,
                    healthplan_store::BACKUP_FAILURE_ENTITY,
                    &key,
                    &outcome,
                )
                .await
            {
                tracing::warn!(error = %audit, "the failed backup could not be audited");
            }
        }
    }
    let (manifest, bytes) = result?;
    Ok(Written {
        manifest,
        path: out.to_path_buf(),
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn write_backup(
    store: &Store,
    config: &StoreConfig,
    settings: &[PathBuf],
    out: &Path,
) -> Result<(Manifest, u64)> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    // Beside the output, so the copy does not fill /tmp and the final rename stays on one disk.
    let work = tempfile::Builder::new()
        .prefix(".healthplan-backup-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    let (entry, db_file, rows) = match store {
        Store::Sqlite(_) => {
            let copy = work.path().join("healthplan.db");
            store.sqlite_snapshot(&copy).await?;
            // Counted in the copy itself: what the file holds, whatever was written since.
            let rows = count_rows_of_sqlite_file(&copy).await?;
            (SQLITE_ENTRY, copy, rows)
        }
        Store::Postgres(_) => {
            let url = config
                .database_url
                .clone()
                .ok_or_else(|| StoreError::Invalid("no DATABASE_URL for pg_dump".into()))?;
            let dump = work.path().join("healthplan.pgdump");
            let rows = pg::dump(store, &url, &dump).await?;
            (PG_ENTRY, dump, rows)
        }
    };
    let mut names = Vec::new();
    for s in settings {
        let name = s
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| BackupError::Io {
                path: s.display().to_string(),
                cause: std::io::Error::other("not a file name"),
            })?
            .to_string();
        if !s.is_file() {
            return Err(BackupError::Io {
                path: s.display().to_string(),
                cause: std::io::Error::new(std::io::ErrorKind::NotFound, "no such settings file"),
            });
        }
        names.push(name);
    }
    let manifest = Manifest {
        format: FORMAT,
        healthplan: env!("CARGO_PKG_VERSION").to_string(),
        created_at: jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        backend: store.backend().to_string(),
        rows: rows.into_iter().collect(),
        settings: names,
    };
    let partial = parent.join(format!(
        ".{}.partial",
        out.file_name().and_then(|n| n.to_str()).unwrap_or("backup")
    ));
    let (m, settings, out_path) = (manifest.clone(), settings.to_vec(), out.to_path_buf());
    let bytes = tokio::task::spawn_blocking(move || {
        write_zip(&partial, &m, entry, &db_file, &settings)?;
        std::fs::rename(&partial, &out_path).map_err(io(&out_path))?;
        std::fs::metadata(&out_path)
            .map(|md| md.len())
            .map_err(io(&out_path))
    })
    .await
    .map_err(|e| BackupError::Io {
        path: out.display().to_string(),
        cause: std::io::Error::other(e),
    })??;
    drop(work);
    Ok((manifest, bytes))
}

async fn count_rows_of_sqlite_file(path: &Path) -> Result<Vec<(String, i64)>> {
    let copy = Store::open_sqlite(path).await?;
    let rows = copy.row_counts().await;
    copy.close().await;
    Ok(rows?)
}

fn write_zip(
    path: &Path,
    manifest: &Manifest,
    db_entry: &str,
    db_file: &Path,
    settings: &[PathBuf],
) -> Result<()> {
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;
    let file = File::create(path).map_err(io(path))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let zip_err = |e: zip::result::ZipError| BackupError::Io {
        path: path.display().to_string(),
        cause: std::io::Error::other(e),
    };
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| BackupError::Io {
        path: path.display().to_string(),
        cause: std::io::Error::other(e),
    })?;
    zip.start_file(MANIFEST, deflated).map_err(zip_err)?;
    zip.write_all(&json).map_err(io(path))?;
    // pg_dump's custom format is compressed already.
    let db_options = if db_entry == PG_ENTRY {
        deflated.compression_method(CompressionMethod::Stored)
    } else {
        deflated
    };
    zip.start_file(db_entry, db_options).map_err(zip_err)?;
    let mut db = File::open(db_file).map_err(io(db_file))?;
    std::io::copy(&mut db, &mut zip).map_err(io(path))?;
    for s in settings {
        let name = s.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        zip.start_file(format!("{SETTINGS_PREFIX}{name}"), deflated)
            .map_err(zip_err)?;
        let mut f = File::open(s).map_err(io(s))?;
        std::io::copy(&mut f, &mut zip).map_err(io(path))?;
    }
    let inner = zip.finish().map_err(zip_err)?;
    let file = inner.into_inner().map_err(|e| BackupError::Io {
        path: path.display().to_string(),
        cause: e.into_error(),
    })?;
    file.sync_all().map_err(io(path))?;
    Ok(())
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Settings files written into the data dir's `settings/`.
    pub settings: Vec<PathBuf>,
    /// Row counts of the restored database (equal to the manifest's).
    pub rows: Vec<(String, i64)>,
}

/// Reads a backup's manifest.
pub fn read_manifest(file: &Path) -> Result<Manifest> {
    let mut zip = open_zip(file)?;
    manifest_of(file, &mut zip)
}

fn open_zip(file: &Path) -> Result<zip::ZipArchive<File>> {
    let f = File::open(file).map_err(io(file))?;
    zip::ZipArchive::new(f).map_err(|e| BackupError::NotABackup {
        path: file.display().to_string(),
        reason: e.to_string(),
    })
}

fn manifest_of(file: &Path, zip: &mut zip::ZipArchive<File>) -> Result<Manifest> {
    let not = |reason: String| BackupError::NotABackup {
        path: file.display().to_string(),
        reason,
    };
    let mut text = String::new();
    zip.by_name(MANIFEST)
        .map_err(|_| not(format!("no {MANIFEST}")))?
        .take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|e| not(format!("{MANIFEST}: {e}")))?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| not(format!("{MANIFEST}: {e}")))?;
    if m.format != FORMAT {
        return Err(not(format!(
            "layout {} (this release reads layout {FORMAT})",
            m.format
        )));
    }
    Ok(m)
}

fn extract(file: &Path, zip: &mut zip::ZipArchive<File>, entry: &str, to: &Path) -> Result<()> {
    let mut e = zip.by_name(entry).map_err(|_| BackupError::NotABackup {
        path: file.display().to_string(),
        reason: format!("no {entry}"),
    })?;
    let mut out = File::create(to).map_err(io(to))?;
    std::io::copy(&mut e, &mut out).map_err(io(file))?;
    out.sync_all().map_err(io(to))?;
    Ok(())
}

/// Restores `file` into the data dir or database `target` names. Refuses a database that
/// holds tables, or settings files that exist, unless `force`.
pub async fn restore(file: &Path, target: &StoreConfig, force: bool) -> Result<Restored> {
    let mut zip = open_zip(file)?;
    let manifest = manifest_of(file, &mut zip)?;
    let to_postgres = target.database_url.is_some();
    match (manifest.backend.as_str(), to_postgres) {
        ("sqlite", false) | ("postgres", true) => {}
        (found, true) => {
            return Err(BackupError::WrongBackend {
                found: found.to_string(),
                target: "PostgreSQL",
                hint: "with --data-dir and no DATABASE_URL",
            })
        }
        (found, false) => {
            return Err(BackupError::WrongBackend {
                found: found.to_string(),
                target: "SQLite",
                hint: "with DATABASE_URL=postgres://… naming an empty database",
            })
        }
    }
    let where_ = match &target.database_url {
        Some(_) => "the database named by DATABASE_URL".to_string(),
        None => target.sqlite_path().display().to_string(),
    };
    let has_tables = Store::has_tables(target).await?;
    if has_tables && !force {
        return Err(BackupError::NotEmpty(where_));
    }
    let settings_dir = target.data_dir.join(RESTORED_SETTINGS_DIR);
    let settings: Vec<PathBuf> = manifest
        .settings
        .iter()
        .map(|n| settings_dir.join(n))
        .collect();
    if let Some(existing) = settings.iter().find(|p| p.exists()) {
        if !force {
            return Err(BackupError::NotEmpty(existing.display().to_string()));
        }
    }
    std::fs::create_dir_all(&target.data_dir).map_err(io(&target.data_dir))?;
    if to_postgres {
        let url = target.database_url.clone().unwrap_or_default();
        let work = tempfile::tempdir_in(&target.data_dir).map_err(io(&target.data_dir))?;
        let dump = work.path().join("healthplan.pgdump");
        extract(file, &mut zip, PG_ENTRY, &dump)?;
        pg::restore(&url, &dump, has_tables).await?;
    } else {
        let db = target.sqlite_path();
        let incoming = target.data_dir.join(".healthplan.db.restoring");
        extract(file, &mut zip, SQLITE_ENTRY, &incoming)?;
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", db.display()));
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&p)(e)),
                _ => {}
            }
        }
        std::fs::rename(&incoming, &db).map_err(io(&db))?;
    }
    if !settings.is_empty() {
        std::fs::create_dir_all(&settings_dir).map_err(io(&settings_dir))?;
        for (name, path) in manifest.settings.iter().zip(&settings) {
            extract(file, &mut zip, &format!("{SETTINGS_PREFIX}{name}"), path)?;
        }
    }
    // Opening migrates a copy from an older release forward.
    let store = Store::open(target).await?;
    let rows = store.row_counts().await;
    store.close().await;
    let rows = rows?;
    let differ: Vec<String> = rows
        .iter()
        .filter_map(|(t, n)| {
            let want = manifest.rows.get(t).copied().unwrap_or(0);
            (want != *n).then(|| format!("{t}: {n} restored, {want} in the backup"))
        })
        .collect();
    if !differ.is_empty() {
        return Err(BackupError::Mismatch(differ.join("; ")));
    }
    Ok(Restored {
        manifest,
        settings,
        rows,
    })
}
