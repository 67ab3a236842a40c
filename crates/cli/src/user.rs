//! `healthplan user add | list | grant | disable | enable | password | token`: accounts from
//! the command line (the same as the API offers administrators).

use crate::Globals;
use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use healthplan_access::password;
use healthplan_core::{AreaCode, Grant, Role, User};
use std::io::{BufRead, IsTerminal};

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create an account with one grant (more with `user grant`).
    Add {
        username: String,
        #[command(flatten)]
        grant: GrantArgs,
        /// The name shown in pages and reports (defaults to the user name).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts and their grants.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a grant to an account.
    Grant {
        username: String,
        #[command(flatten)]
        grant: GrantArgs,
    },
    /// Stop an account from signing in (its sessions end; its history stays).
    Disable { username: String },
    /// Let a disabled account sign in again.
    Enable { username: String },
    /// Set a new password.
    Password {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create a personal API token for an account; the secret is printed once.
    Token {
        username: String,
        /// What the token is for.
        #[arg(long, default_value = "command line")]
        name: String,
    },
}

#[derive(clap::Args)]
pub struct GrantArgs {
    /// admin, planner, reporter or viewer.
    #[arg(long)]
    role: String,
    /// The area (GB/T 2260 code) whose subtree the grant covers.
    #[arg(long)]
    area: String,
    /// A department the grant is narrowed to (repeat for several); reporters only.
    #[arg(long = "department")]
    departments: Vec<String>,
}

impl GrantArgs {
    fn grant(&self) -> anyhow::Result<Grant> {
        Ok(Grant {
            role: Role::parse(&self.role)?,
            area: AreaCode::parse(&self.area).context("--area")?,
            departments: self
                .departments
                .iter()
                .map(|d| d.trim().to_string())
                .collect(),
        })
    }
}

fn read_password(from_stdin: bool, username: &str) -> anyhow::Result<String> {
    let pw = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let a = rpassword::prompt_password(format!("password for {username}: "))?;
        let b = rpassword::prompt_password("again: ")?;
        if a != b {
            bail!("the two passwords differ");
        }
        a
    };
    password::check_policy(&pw, username).map_err(|e| anyhow!("{e}"))?;
    password::hash_password(&pw).map_err(|e| anyhow!("{e}"))
}

fn describe(u: &User) -> String {
    let grants: Vec<String> = u
        .grants
        .iter()
        .map(|g| {
            let d = if g.departments.is_empty() {
                String::new()
            } else {
                format!(" [{}]", g.departments.join("、"))
            };
            format!("{} @ {}{d}", g.role.as_str(), g.area)
        })
        .collect();
    format!(
        "{}\t{}\t{}{}\n",
        u.username,
        u.display_name,
        grants.join("; "),
        if u.disabled { "\t(disabled)" } else { "" }
    )
}

pub async fn run(cmd: UserCmd, g: &Globals) -> anyhow::Result<()> {
    let store = crate::store::open(g).await?;
    let local = crate::store::Local::of(&store).await?;
    let admin = local.users()?;
    let existing = |name: &str| {
        let store = store.clone();
        let name = name.to_string();
        async move {
            store
                .user(&name)
                .await?
                .ok_or_else(|| anyhow!("no account {name:?} (see `healthplan user list`)"))
        }
    };
    match cmd {
        UserCmd::Add {
            username,
            grant,
            display_name,
            password_stdin,
        } => {
            let user = User::new(
                &username,
                display_name.as_deref().unwrap_or(&username),
                vec![grant.grant()?],
            )?;
            let hash = read_password(password_stdin, &user.username)?;
            store.create_user(&admin, &user, Some(&hash)).await?;
            crate::store::print(&format!("account created: {}", describe(&user)))
        }
        UserCmd::List { json } => {
            let users = store.list_users(&admin).await?;
            if json {
                return crate::store::print(&(serde_json::to_string_pretty(&users)? + "\n"));
            }
            crate::store::print(&users.iter().map(describe).collect::<String>())
        }
        UserCmd::Grant { username, grant } => {
            let mut u = existing(&username).await?;
            u.grants.push(grant.grant()?);
            store.update_user(&admin, &u).await?;
            crate::store::print(&describe(&u))
        }
        UserCmd::Disable { username } => {
            let mut u = existing(&username).await?;
            u.disabled = true;
            store.update_user(&admin, &u).await?;
            crate::store::print(&describe(&u))
        }
        UserCmd::Enable { username } => {
            let mut u = existing(&username).await?;
            u.disabled = false;
            store.update_user(&admin, &u).await?;
            crate::store::print(&describe(&u))
        }
        UserCmd::Password {
            username,
            password_stdin,
        } => {
            let u = existing(&username).await?;
            let hash = read_password(password_stdin, &u.username)?;
            store.reset_password(&admin, &u.username, &hash).await?;
            crate::store::print(&format!("password changed for {}\n", u.username))
        }
        UserCmd::Token { username, name } => {
            let u = existing(&username).await?;
            let secret = format!("hp_{}", healthplan_server::random_token());
            let t = store
                .create_token_for(
                    &admin,
                    &u.username,
                    &name,
                    &healthplan_server::hash_secret(&secret),
                )
                .await?;
            eprintln!(
                "token {} for {} ({}); shown once:",
                t.id, u.username, t.name
            );
            crate::store::print(&format!("{secret}\n"))
        }
    }
}
