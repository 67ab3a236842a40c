use crate::Globals;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Walk the audit log's hash chain; fails naming the first row that breaks it (a row
    /// changed, or one removed before it).
    Verify,
}

pub async fn run(cmd: AuditCmd, g: &Globals) -> anyhow::Result<()> {
    match cmd {
        AuditCmd::Verify => {
            let store = crate::store::open(g).await?;
            let check = store.verify_audit().await?;
            match check.first_broken {
                None => crate::store::print(&format!(
                    "audit log intact: {} rows chained ({} from before the chain) in {}\n",
                    check.rows - check.unchained,
                    check.unchained,
                    store.location()
                )),
                Some(id) => anyhow::bail!(
                    "audit log row {id} breaks the hash chain: it or the row before it was \
                     changed, or a row between was removed ({} rows read)",
                    check.rows
                ),
            }
        }
    }
}
