//! The configuration file (`/etc/healthplan/healthplan.toml`, or `--config` /
//! `HEALTHPLAN_CONFIG`): every flag can be set there. Top-level keys are the global options,
//! a `[serve]` (or any command's) table holds that command's; keys are flag names with `_` or
//! `-`. Precedence: command line, then environment, then the file, then built-in defaults.

use crate::Globals;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// Read when it exists and nothing else names a file.
pub const DEFAULT_PATH: &str = "/etc/healthplan/healthplan.toml";
const ENV: &str = "HEALTHPLAN_CONFIG";

/// The configuration file to read: `--config FILE` on the command line, `HEALTHPLAN_CONFIG`,
/// or the default path if it exists.
pub fn locate(args: &[std::ffi::OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    if let Some(v) = std::env::var_os(ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(v));
    }
    Some(PathBuf::from(DEFAULT_PATH)).filter(|p| p.is_file())
}

/// `cmd` with the file's settings as the defaults of the flags they name.
pub fn apply(cmd: clap::Command, path: &Path) -> anyhow::Result<clap::Command> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {name}"))?;
    let table: toml::Table = text.parse().map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut cmd = cmd;
    for (key, value) in &table {
        match value {
            // Read by `serve` itself (`notifications`), not flags.
            toml::Value::Table(_) if key == NOTIFICATIONS => {}
            toml::Value::Table(section) => {
                if cmd.find_subcommand(key).is_none() {
                    bail!("{name}: [{key}] is not a healthplan command");
                }
                let mut failed = None;
                cmd = cmd.mut_subcommand(key, |mut sub| {
                    for (k, v) in section {
                        match set_default(sub.clone(), k, v, &format!("{name}: [{key}] {k}")) {
                            Ok(s) => sub = s,
                            Err(e) => {
                                failed.get_or_insert(e);
                            }
                        }
                    }
                    sub
                });
                if let Some(e) = failed {
                    return Err(e);
                }
            }
            v => cmd = set_default(cmd, key, v, &format!("{name}: {key}"))?,
        }
    }
    Ok(cmd)
}

fn set_default(
    cmd: clap::Command,
    key: &str,
    value: &toml::Value,
    place: &str,
) -> anyhow::Result<clap::Command> {
    let id = key.replace('-', "_");
    let Some(arg) = cmd
        .get_arguments()
        .find(|a| a.get_id().as_str() == id && a.get_long().is_some())
    else {
        let known: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|l| !matches!(*l, "help" | "version" | "config"))
            .map(|l| l.replace('-', "_"))
            .collect();
        bail!(
            "{place}: no such setting (known here: {})",
            known.join(", ")
        );
    };
    let scalar = |v: &toml::Value| -> anyhow::Result<String> {
        Ok(match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => bail!("{place}: expected text, a number or true/false, found {other}"),
        })
    };
    let values: Vec<String> = match value {
        toml::Value::Array(items) => items.iter().map(scalar).collect::<anyhow::Result<_>>()?,
        v => vec![scalar(v)?],
    };
    let id = arg.get_id().clone();
    Ok(cmd.mut_arg(id, |a| a.default_values(values)))
}

const NOTIFICATIONS: &str = "notifications";

/// The `[notifications]` section: the SMTP server and the site's address, the defaults of
/// what an administrator sets on the admin page (which win once saved there).
///
/// ```toml
/// [notifications]
/// smtp_host = "smtp.example.gov.cn"
/// smtp_port = 587
/// smtp_security = "starttls"   # starttls | tls | none
/// smtp_username = "noreply"
/// smtp_password = "…"
/// smtp_from = "健康办 <noreply@example.gov.cn>"
/// site_url = "https://jk.example.gov.cn"
/// ```
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NotificationsSection {
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_security: Option<healthplan_app::store::SmtpSecurity>,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
    smtp_from: Option<String>,
    site_url: Option<String>,
}

/// Reads the `[notifications]` section of the configuration file (empty settings without).
pub fn notifications(path: &Path) -> anyhow::Result<healthplan_app::store::NotifySettings> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {name}"))?;
    let table: toml::Table = text.parse().map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let Some(section) = table.get(NOTIFICATIONS) else {
        return Ok(Default::default());
    };
    let s: NotificationsSection = section
        .clone()
        .try_into()
        .map_err(|e| anyhow::anyhow!("{name}: [{NOTIFICATIONS}] {e}"))?;
    let smtp = match s.smtp_host {
        None => None,
        Some(host) => {
            let security = s.smtp_security.unwrap_or_default();
            let port = s.smtp_port.unwrap_or(match security {
                healthplan_app::store::SmtpSecurity::Tls => 465,
                healthplan_app::store::SmtpSecurity::Starttls => 587,
                healthplan_app::store::SmtpSecurity::None => 25,
            });
            let from = s.smtp_from.with_context(|| {
                format!("{name}: [{NOTIFICATIONS}] smtp_from is needed with smtp_host")
            })?;
            Some(healthplan_app::store::SmtpSettings {
                host,
                port,
                security,
                username: s.smtp_username,
                password: s.smtp_password,
                from,
            })
        }
    };
    let settings = healthplan_app::store::NotifySettings {
        smtp,
        site_url: s.site_url,
    };
    healthplan_app::notify::checked_settings(settings, None)
        .map_err(|e| anyhow::anyhow!("{name}: [{NOTIFICATIONS}] {e}"))
}

#[derive(clap::Subcommand)]
pub enum ConfigCmd {
    /// Check the configuration file and what it points at; print the settings in effect.
    Check,
}

pub async fn run(c: ConfigCmd, g: &Globals) -> anyhow::Result<()> {
    let ConfigCmd::Check = c;
    let mut out = match &g.config_file {
        Some(p) => format!("configuration file: {}\n", p.display()),
        None => format!("no configuration file (looked for --config, {ENV}, {DEFAULT_PATH})\n"),
    };
    if let Some(p) = &g.config_file {
        out += &permissions_note(p);
    }
    // What `serve` would run with.
    let cli = crate::parse_from(
        ["healthplan", "serve"]
            .map(std::ffi::OsString::from)
            .to_vec(),
        g.config_file.as_deref(),
    )?;
    let crate::Command::Serve(serve) = cli.command else {
        bail!("`healthplan serve` did not parse as serve");
    };
    let config = crate::store::config(g);
    out += &match &config.database_url {
        Some(url) => format!("database: {}\n", healthplan_app::store::redact(url)),
        None => format!("database: {}\n", config.sqlite_path().display()),
    };
    healthplan_app::store::Store::has_tables(&config)
        .await
        .context("the database cannot be reached")?;
    out += "database: reachable\n";
    serve
        .listen
        .parse::<std::net::SocketAddr>()
        .with_context(|| format!("listen = {:?} is not an address:port", serve.listen))?;
    out += &format!("listen: {}\n", serve.listen);
    let mut options = serve.options.clone();
    options.config_file = g.config_file.clone();
    let server = options.config().context("the server settings")?;
    out += &match &server.notify_defaults.smtp {
        Some(s) => format!(
            "notifications: e-mail through {}:{} ({:?}), from {}\n",
            s.host, s.port, s.security, s.from
        ),
        None => "notifications: no SMTP server in the file (the admin page may set one)\n".into(),
    };
    out +=
        &format!(
        "secure_cookies: {}, trust_proxy: {}, idle_minutes: {}, metrics: {}, log_format: {:?}\n",
        serve.options.secure_cookies,
        serve.options.trust_proxy,
        serve.options.idle_minutes,
        if serve.options.metrics_token.is_some() { "on (token set)" } else { "off" },
        serve.options.log_format,
    );
    if let Some(s) = &serve.options.scheme {
        out += &format!("scheme: {} (valid)\n", s.display());
    }
    match &serve.backup_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("backup_dir {} cannot be created", dir.display()))?;
            let probe = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("backup_dir {} is not writable", dir.display()))?;
            drop(probe);
            out += &format!(
                "backups: every {:?} into {} (writable), keeping {}\n",
                serve.backup_every,
                dir.display(),
                serve.backup_keep
            );
        }
        None => out += "backups: not scheduled (set backup_dir under [serve])\n",
    }
    out += "configuration OK\n";
    crate::store::print(&out)
}

/// A file that may hold a database password or the metrics token should not be readable by
/// every account.
fn permissions_note(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(md) = std::fs::metadata(path) {
            if md.permissions().mode() & 0o004 != 0 {
                return format!(
                    "warning: {} is readable by every account; if it holds a password or token, chmod 640 it\n",
                    path.display()
                );
            }
        }
    }
    let _ = path;
    String::new()
}
