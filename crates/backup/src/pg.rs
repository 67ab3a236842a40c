//! PostgreSQL copies through `pg_dump` and `pg_restore` (postgresql-client).

use crate::{io, BackupError, Result};
use healthplan_store::{Store, StoreError};
use percent_encoding::percent_decode_str;
use std::path::Path;

/// Dumps the database in the custom format inside a snapshot exported from a transaction that
/// also counts every table's rows, so the counts describe exactly what the dump holds.
pub(crate) async fn dump(store: &Store, url: &str, out: &Path) -> Result<Vec<(String, i64)>> {
    let Store::Postgres(db) = store else {
        return Err(StoreError::Invalid("pg_dump needs a PostgreSQL database".into()).into());
    };
    let out_arg = out.display().to_string();
    let (rows, dumped) = db
        .in_exported_snapshot(|snapshot| async move {
            run(
                "pg_dump",
                url,
                &[
                    "--format=custom".into(),
                    "--no-owner".into(),
                    "--no-privileges".into(),
                    format!("--snapshot={snapshot}"),
                    format!("--file={out_arg}"),
                ],
            )
            .await
        })
        .await?;
    dumped?;
    std::fs::metadata(out).map_err(io(out))?;
    Ok(rows)
}

/// Restores a custom-format dump in one transaction; `clean` drops what is there first.
pub(crate) async fn restore(url: &str, dump: &Path, clean: bool) -> Result<()> {
    let mut args: Vec<String> = vec![
        "--no-owner".into(),
        "--no-privileges".into(),
        "--exit-on-error".into(),
        "--single-transaction".into(),
    ];
    if clean {
        args.push("--clean".into());
        args.push("--if-exists".into());
    }
    args.push(dump.display().to_string());
    run("pg_restore", url, &args).await
}

/// Runs a PostgreSQL client program against `url`; the password goes through the
/// environment, not the command line others can read.
async fn run(program: &'static str, url: &str, args: &[String]) -> Result<()> {
    let (url, password) = split_password(url);
    let mut cmd = tokio::process::Command::new(program);
    cmd.arg(format!("--dbname={url}")).args(args);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let out = cmd.output().await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => BackupError::ToolMissing {
            program,
            package: "postgresql-client",
        },
        _ => BackupError::Io {
            path: program.to_string(),
            cause: e,
        },
    })?;
    if !out.status.success() {
        return Err(BackupError::Tool {
            program,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// `postgres://user:pw@host/db` → (`postgres://user@host/db`, the decoded password).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some(s) = url.find("://") else {
        return (url.to_string(), None);
    };
    let rest = &url[s + 3..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return (url.to_string(), None);
    };
    match authority[..at].split_once(':') {
        Some((user, pw)) => (
            format!("{}{user}@{}", &url[..s + 3], &rest[at + 1..]),
            Some(percent_decode_str(pw).decode_utf8_lossy().into_owned()),
        ),
        None => (url.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::split_password;

    #[test]
    fn passwords_leave_the_url() {
        assert_eq!(
            split_password("postgres://hp:s%40cret@db:5432/hp?sslmode=require"),
            (
                "postgres://hp@db:5432/hp?sslmode=require".to_string(),
                Some("s@cret".to_string())
            )
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1/x"),
            ("postgres://postgres@127.0.0.1/x".to_string(), None)
        );
        assert_eq!(
            split_password("postgresql:///x"),
            ("postgresql:///x".to_string(), None)
        );
    }
}
