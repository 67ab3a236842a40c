//! Operating an installation: `serve --log-format json`, `backup` while serving, `restore`
//! into an empty database and the refusal of a full one, row for row.

use crate::common::{run_err, run_ok, Backend};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `healthplan serve` running in the background until dropped.
struct Served {
    child: Child,
    addr: String,
}

impl Served {
    fn start(cmd: &mut Command) -> Served {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("healthplan serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Served { child, addr }
    }

    /// A GET with a request id; returns the status line and the body.
    fn get(&self, path: &str, request_id: &str) -> String {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nx-request-id: {request_id}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// Stops the server and returns what it logged.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut logs = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut logs)
            .unwrap();
        logs
    }
}

/// Some evidence, so the uploaded files are part of what is compared.
fn add_evidence(b: &Backend) {
    let (rt, store) = b.store();
    rt.block_on(async {
        let policy = healthplan_app::load_policy(&store).await.unwrap();
        let caps = healthplan_access::Caps::local(policy, "test");
        let plan = store.list_plans(&caps.reader()).await.unwrap()[0].id;
        let task = store.plan_tasks(&caps.reader(), plan).await.unwrap()[0]
            .task
            .id
            .clone();
        let area = store.list_areas().await.unwrap()[0].code.clone();
        let key = healthplan_store::TaskKey {
            plan_id: plan,
            task_id: task,
            area,
            period: "2024".parse().unwrap(),
        };
        let file = healthplan_store::EvidenceFile {
            file_name: "会议纪要.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: (0..=255u8).cycle().take(70_000).collect(),
        };
        store
            .add_evidence(&caps.progress_writer().unwrap(), &key, &file)
            .await
            .unwrap();
        store.close().await;
    });
    drop(rt);
}

fn rows(b: &Backend) -> std::collections::BTreeMap<String, Vec<String>> {
    let (rt, store) = b.store();
    let rows = rt
        .block_on(healthplan_store::testing::table_rows(&store))
        .unwrap();
    rt.block_on(store.close());
    rows
}

fn empty_like(b: &Backend) -> Backend {
    match b.name {
        "postgres" => Backend::postgres().unwrap(),
        _ => Backend::sqlite(),
    }
}

fn settings_file(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("healthplan.toml");
    std::fs::write(&p, "[serve]\nlisten = \"127.0.0.1:8080\"\n").unwrap();
    p
}

#[test]
fn backup_while_serving_then_restore_row_for_row() {
    let settings_dir = tempfile::tempdir().unwrap();
    let settings = settings_file(settings_dir.path());
    for b in Backend::all() {
        run_ok(b.cmd().args(["demo", "--setup-only"]));
        add_evidence(&b);

        // A backup taken while the server serves, with JSON logs naming each request.
        let served = Served::start(b.cmd().args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ]));
        assert!(served
            .get("/healthz", "probe-1")
            .starts_with("HTTP/1.1 200"));
        let live = b.dir.path().join("live.zip");
        let out = run_ok(
            b.cmd()
                .args(["backup", "--out"])
                .arg(&live)
                .arg("--settings")
                .arg(&settings),
        );
        assert!(out.starts_with("backup written: "), "{out}");
        let ready = served.get("/readyz", "probe-2");
        assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
        let logs = served.stop();
        let line = logs
            .lines()
            .find(|l| l.contains("probe-2"))
            .unwrap_or_else(|| panic!("no log line with the request id in\n{logs}"));
        let json: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
        assert_eq!(json["span"]["id"], "probe-2", "{line}");
        assert_eq!(json["span"]["route"], "/readyz", "{line}");

        // Restored into an empty database: the counts are checked against the backup's.
        let target = empty_like(&b);
        let out = run_ok(target.cmd().arg("restore").arg(&live));
        assert!(
            out.contains("equal to the backup"),
            "{b}: {out}",
            b = b.name
        );
        let restored_settings = target.dir.path().join("settings/healthplan.toml");
        assert_eq!(
            std::fs::read(&restored_settings).unwrap(),
            std::fs::read(&settings).unwrap()
        );
        // A database that holds data is not overwritten unless told.
        let err = run_err(target.cmd().arg("restore").arg(&live));
        assert!(
            err.contains("already holds data") && err.contains("--force"),
            "{err}"
        );
        run_ok(target.cmd().args(["restore", "--force"]).arg(&live));

        // With nothing writing, the copy equals the original in every row of every table.
        let before = rows(&b);
        let quiet = b.dir.path().join("quiet.zip");
        run_ok(b.cmd().args(["backup", "--out"]).arg(&quiet));
        let target = empty_like(&b);
        run_ok(target.cmd().arg("restore").arg(&quiet));
        let after = rows(&target);
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>()
        );
        for (table, want) in &before {
            assert_eq!(&after[table], want, "{}: table {table} differs", b.name);
        }
        assert_eq!(before["evidence"].len(), 1);
        assert!(before["audit_log"].len() > 100);

        // Both backups are in the audit log; a SQLite backup is not restored into PostgreSQL.
        let (rt, store) = b.store();
        let last = rt
            .block_on(store.last_operation(healthplan_store::BACKUP_ENTITY))
            .unwrap()
            .unwrap();
        rt.block_on(store.close());
        assert_eq!(last.entity_key, quiet.display().to_string());
        assert_eq!(last.actor, "cli:test");
        if b.name == "postgres" {
            let sqlite = Backend::sqlite();
            run_ok(sqlite.cmd().args(["demo", "--setup-only"]));
            let file = sqlite.dir.path().join("s.zip");
            run_ok(sqlite.cmd().args(["backup", "--out"]).arg(&file));
            let err = run_err(empty_like(&b).cmd().arg("restore").arg(&file));
            assert!(err.contains("holds a sqlite database"), "{err}");
        }
    }
}

#[test]
fn a_file_that_is_not_a_backup_is_named() {
    let b = Backend::sqlite();
    let bogus = b.dir.path().join("notes.zip");
    std::fs::write(&bogus, "hello").unwrap();
    let err = run_err(b.cmd().arg("restore").arg(&bogus));
    assert!(
        err.contains("notes.zip is not a healthplan backup"),
        "{err}"
    );
    assert!(!b.dir.path().join("healthplan.db").exists());
}

#[test]
fn serve_backs_up_on_schedule_and_keeps_the_newest() {
    for b in Backend::all() {
        run_ok(b.cmd().args(["demo", "--setup-only"]));
        let dir = b.dir.path().join("backups");
        let served = Served::start(
            b.cmd()
                .args(["serve", "--listen", "127.0.0.1:0", "--backup-dir"])
                .arg(&dir)
                .args(["--backup-every", "2s", "--backup-keep", "2"]),
        );
        let audited = || {
            let (rt, store) = b.store();
            let filter = healthplan_store::AuditFilter {
                entity: Some(healthplan_store::BACKUP_ENTITY.into()),
                ..Default::default()
            };
            let n = rt.block_on(store.audit_log(&filter)).unwrap();
            rt.block_on(store.close());
            n
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while audited().len() < 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "{}: fewer than 3 scheduled backups in 120 s",
                b.name
            );
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        served.stop();
        let entries = audited();
        assert!(entries.iter().all(|e| e.actor == "system:backup-schedule"));
        // Stopped hard, the server may leave a backup in progress; only finished ones count.
        let kept: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "zip"))
            .collect();
        assert_eq!(kept.len(), 2, "{}: {kept:?}", b.name);
        // What was kept restores.
        let file = &kept[0];
        run_ok(empty_like(&b).cmd().arg("restore").arg(file));
    }
}

#[test]
fn every_flag_can_come_from_the_configuration_file() {
    let b = Backend::sqlite();
    let backups = b.dir.path().join("backups");
    let file = b.dir.path().join("healthplan.toml");
    std::fs::write(
        &file,
        format!(
            "data_dir = {:?}\n[serve]\nlisten = \"127.0.0.1:0\"\ntrust_proxy = true\nidle_minutes = 45\nmetrics_token = \"t0ken\"\nlog_format = \"json\"\nbackup_dir = {:?}\nbackup_keep = 3\nbackup_every = \"6h\"\n",
            b.dir.path().join("from-config"),
            backups,
        ),
    )
    .unwrap();
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_healthplan"))
            .env_remove("DATABASE_URL")
            .env_remove("HEALTHPLAN_DATA_DIR")
            .args(["config", "check", "--config"])
            .arg(&file),
    );
    for want in [
        "from-config/healthplan.db",
        "listen: 127.0.0.1:0",
        "trust_proxy: true, idle_minutes: 45, metrics: on (token set), log_format: Json",
        "backups: every 21600s into",
        "keeping 3",
        "configuration OK",
    ] {
        assert!(out.contains(want), "{want:?} not in\n{out}");
    }
    // Flags win over the file; so does the environment.
    let out = run_ok(
        b.cmd()
            .env("HEALTHPLAN_CONFIG", &file)
            .env("HEALTHPLAN_LISTEN", "127.0.0.1:9999")
            .args(["config", "check"]),
    );
    assert!(out.contains("listen: 127.0.0.1:9999"), "{out}");
    assert!(out.contains("idle_minutes: 45,"), "{out}");
    assert!(!out.contains("from-config"), "--data-dir given: {out}");

    // The file the package installs is valid.
    let packaged = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/healthplan.toml");
    let out = run_ok(
        b.cmd()
            .env("HEALTHPLAN_BACKUP_DIR", &backups)
            .args(["config", "check", "--config"])
            .arg(&packaged),
    );
    assert!(
        out.contains("secure_cookies: true, trust_proxy: true"),
        "{out}"
    );

    // A misspelt setting is named with the file, and nothing runs.
    std::fs::write(
        &file,
        "[serve]\nlisten = \"127.0.0.1:0\"\nbackup_kept = 3\n",
    )
    .unwrap();
    let err = run_err(b.cmd().args(["config", "check", "--config"]).arg(&file));
    assert!(
        err.contains("healthplan.toml: [serve] backup_kept: no such setting")
            && err.contains("backup_keep"),
        "{err}"
    );
    std::fs::write(&file, "[serv]\n").unwrap();
    let err = run_err(b.cmd().args(["config", "check", "--config"]).arg(&file));
    assert!(err.contains("[serv] is not a healthplan command"), "{err}");
    std::fs::write(&file, "listen = [\n").unwrap();
    let err = run_err(b.cmd().args(["config", "check", "--config"]).arg(&file));
    assert!(err.contains("healthplan.toml"), "{err}");
}
