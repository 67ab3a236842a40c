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
        assert!(served.get("/healthz", "probe-1").starts_with("HTTP/1.1 200"));
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
        assert!(out.contains("equal to the backup"), "{b}: {out}", b = b.name);
        let restored_settings = target.dir.path().join("settings/healthplan.toml");
        assert_eq!(
            std::fs::read(&restored_settings).unwrap(),
            std::fs::read(&settings).unwrap()
        );
        // A database that holds data is not overwritten unless told.
        let err = run_err(target.cmd().arg("restore").arg(&live));
        assert!(err.contains("already holds data") && err.contains("--force"), "{err}");
        run_ok(target.cmd().args(["restore", "--force"]).arg(&live));

        // With nothing writing, the copy equals the original in every row of every table.
        let before = rows(&b);
        let quiet = b.dir.path().join("quiet.zip");
        run_ok(b.cmd().args(["backup", "--out"]).arg(&quiet));
        let target = empty_like(&b);
        run_ok(target.cmd().arg("restore").arg(&quiet));
        let after = rows(&target);
        assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
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
    assert!(err.contains("notes.zip is not a healthplan backup"), "{err}");
    assert!(!b.dir.path().join("healthplan.db").exists());
}
