//! Several server processes on one PostgreSQL database. Each holds its own analytics engine;
//! the store's change feed (`healthplan_store::changes`) tells every process what the others
//! committed. [`follow_changes`] listens for the feed's notifications and applies what
//! changed since the last change this process saw ([`App::catch_up`]), through the same
//! after-commit hook as the process's own writes. After a lost connection, and every
//! `safety_every` whatever happens, it catches up from the feed too, so a missed
//! notification delays a change by at most that long. A SQLite database is served by one
//! process; there the feed is empty and nothing runs.

use crate::{App, Committed, Result};
use healthplan_store::ChangeFeed;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Changes read per query; a process further behind than [`RELOAD_BEYOND`] reloads instead.
const PAGE: i64 = 5_000;
/// Past this many unseen changes (a bulk import elsewhere), reloading the engine from the
/// store is cheaper than reading the changes one value at a time.
const RELOAD_BEYOND: i64 = 200_000;
/// Changes are kept this long, then pruned: a process that has not caught up by then (it was
/// cut off from the database) reloads.
const KEEP_CHANGES: Duration = Duration::from_secs(3600);

/// What one catch-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Values re-read and applied.
    pub applied: usize,
    /// The engine was rebuilt from the store (too far behind, or the changes were pruned).
    pub reloaded: bool,
}

impl App {
    /// The last change of the feed this process's engine holds.
    pub fn seen_change(&self) -> i64 {
        self.seen.load(Ordering::SeqCst)
    }

    /// Applies every change committed after the last one seen (its own writes included:
    /// re-applying a value's current state is harmless). Holds the write lock, so changes
    /// and this process's own writes reach the engine in commit order.
    pub async fn catch_up(&self) -> Result<CatchUp> {
        let mut done = CatchUp::default();
        if !self.store.is_shared() {
            return Ok(done);
        }
        let _w = self.write.lock().await;
        loop {
            let after = self.seen.load(Ordering::SeqCst);
            if self.store.change_head().await? - after > RELOAD_BEYOND {
                self.reload_locked().await?;
                // A reload marker may be among the skipped changes.
                self.reload_derived().await?;
                done.reloaded = true;
                return Ok(done);
            }
            match self.store.changes_since(after, PAGE).await? {
                ChangeFeed::Pruned => {
                    tracing::warn!(
                        after,
                        "changes this process had not seen were pruned; reloading the engine"
                    );
                    self.reload_locked().await?;
                    self.reload_derived().await?;
                    done.reloaded = true;
                    return Ok(done);
                }
                ChangeFeed::Changes {
                    last,
                    values,
                    reloads,
                } => {
                    // This process's own markers: it rebuilt before announcing.
                    let foreign = {
                        let mut own = self.own_markers.lock().unwrap_or_else(|e| e.into_inner());
                        reloads.iter().filter(|id| !own.remove(id)).count()
                    };
                    if foreign > 0 {
                        // Registry changes elsewhere: everything derived is rebuilt, and the
                        // reload has read every value up to now.
                        self.reload_locked().await?;
                        self.reload_derived().await?;
                        done.reloaded = true;
                        return Ok(done);
                    }
                    let changes: Vec<Committed<'_>> = values
                        .iter()
                        .map(|(k, v)| Committed {
                            element: &k.element,
                            area: &k.area,
                            period: k.period,
                            value: v.as_ref().map(|v| &v.value),
                            evaluated: true,
                        })
                        .collect();
                    self.after_commit(&changes).await;
                    done.applied += values.len();
                    self.seen.store(last, Ordering::SeqCst);
                    if last == after || last - after < PAGE {
                        return Ok(done);
                    }
                }
            }
        }
    }
}

/// Keeps this process's engine in step with the other processes' writes until the task is
/// dropped; returns at once on SQLite.
pub async fn follow_changes(app: Arc<App>, safety_every: Duration) {
    if !app.store().is_shared() {
        return;
    }
    let mut prune = tokio::time::interval(Duration::from_secs(600));
    loop {
        // Listen first, then catch up: a change committed in between is both read and
        // announced, never neither.
        let mut listener = match app.store().change_listener().await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other processes' changes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        catch_up_logged(&app).await;
        loop {
            tokio::select! {
                r = listener.next() => match r {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!("change notifications interrupted; catching up from the feed"),
                    Err(e) => {
                        tracing::warn!(error = %e, "change notifications failed; reconnecting");
                        catch_up_logged(&app).await;
                        break;
                    }
                },
                _ = tokio::time::sleep(safety_every) => {}
                _ = prune.tick() => {
                    if let Err(e) = app.store().prune_changes(KEEP_CHANGES).await {
                        tracing::warn!(error = %e, "cannot prune the change feed");
                    }
                    continue;
                }
            }
            catch_up_logged(&app).await;
        }
    }
}

async fn catch_up_logged(app: &App) {
    match app.catch_up().await {
        Ok(c) if c.reloaded => tracing::info!("analytics engine reloaded from the store"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot apply other processes' changes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{areas, births, number, province};
    use healthplan_core::{Aggregation, DataElement, ValueType};
    use healthplan_store::testing::{postgres_test_url, TestDatabase};
    use healthplan_store::{Store, StoreConfig};

    /// Two apps on one PostgreSQL database, neither following the feed on its own: what one
    /// writes reaches the other's engine at its next catch-up (as after a missed
    /// notification), deletes and pruned feeds included; SQLite has nothing to follow.
    #[tokio::test]
    async fn a_second_process_catches_up_from_the_feed() {
        let Some(server) = postgres_test_url() else {
            eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL story skipped");
            return;
        };
        let db = TestDatabase::create(&server).await.unwrap();
        let config = StoreConfig::new(".", Some(db.url.clone()));
        let store_a = Store::open(&config).await.unwrap();
        let setup =
            healthplan_access::Caps::local(crate::load_policy(&store_a).await.unwrap(), "setup");
        store_a
            .import_areas(&setup.registry_admin().unwrap(), &areas())
            .await
            .unwrap();
        let el = DataElement::new("births", "活产数", ValueType::Number, Aggregation::Sum).unwrap();
        store_a
            .put_data_elements(&setup.registry_admin().unwrap(), &[el])
            .await
            .unwrap();
        let a = App::open(store_a).await.unwrap();
        let b = App::open(Store::open(&config).await.unwrap())
            .await
            .unwrap();
        let writer = a.local_caps("reporter").value_writer().unwrap();

        let saved = a
            .put_data_value(&writer, &number("births", "445300", "202402", 7.0), None)
            .await
            .unwrap();
        a.put_data_value(
            &writer,
            &number("births", "440310001001", "202403", 5.0),
            None,
        )
        .await
        .unwrap();
        assert_eq!(province(&a, births(), "2024"), (Some(12.0), 2));
        assert_eq!(province(&b, births(), "2024"), (None, 0), "not yet applied");
        let c = b.catch_up().await.unwrap();
        assert_eq!((c.applied, c.reloaded), (2, false));
        assert_eq!(province(&b, births(), "2024"), (Some(12.0), 2));
        assert_eq!(b.seen_change(), b.store().change_head().await.unwrap());
        // Nothing new: nothing applied.
        assert_eq!(b.catch_up().await.unwrap().applied, 0);

        // An update and a delete travel the same way.
        let key = healthplan_store::ValueKey::of(&saved);
        let updated = a
            .put_data_value(
                &writer,
                &number("births", "445300", "202402", 10.0),
                Some(saved.version),
            )
            .await
            .unwrap();
        b.catch_up().await.unwrap();
        assert_eq!(province(&b, births(), "2024"), (Some(15.0), 2));
        a.delete_data_value(&writer, &key, updated.version)
            .await
            .unwrap();
        b.catch_up().await.unwrap();
        assert_eq!(province(&b, births(), "2024"), (Some(5.0), 1));
        // A's own writes come back through the feed too, harmlessly.
        a.catch_up().await.unwrap();
        assert_eq!(province(&a, births(), "2024"), (Some(5.0), 1));

        // Changes pruned before B saw them: B reloads from the store instead.
        a.put_data_value(&writer, &number("births", "445300", "202405", 1.0), None)
            .await
            .unwrap();
        assert!(a.store().prune_changes(Duration::ZERO).await.unwrap() > 0);
        let c = b.catch_up().await.unwrap();
        assert!(c.reloaded);
        assert_eq!(province(&b, births(), "2024"), (Some(6.0), 2));

        // A new area through A: B rebuilds its tree and policy, then aggregates values there.
        let all = areas();
        let town = all.iter().find(|x| x.code.as_str() == "440310001").unwrap();
        let new = healthplan_core::Area::new(
            crate::tests::code("440310001002"),
            "新社区",
            healthplan_core::AreaLevel::Village,
            Some(town),
        )
        .unwrap();
        let admin = a.local_caps("admin").registry_admin().unwrap();
        a.import_areas(&admin, &[new]).await.unwrap();
        let writer = a.local_caps("reporter").value_writer().unwrap();
        a.put_data_value(
            &writer,
            &number("births", "440310001002", "202406", 2.0),
            None,
        )
        .await
        .unwrap();
        assert!(!b
            .policy()
            .areas()
            .contains(&crate::tests::code("440310001002")));
        let c = b.catch_up().await.unwrap();
        assert!(c.reloaded);
        assert!(b
            .policy()
            .areas()
            .contains(&crate::tests::code("440310001002")));
        assert_eq!(province(&b, births(), "2024"), (Some(8.0), 3));

        // A new element through A (the server's element PUT: store, then reload).
        let el = DataElement::new("deaths", "死亡数", ValueType::Number, Aggregation::Sum).unwrap();
        a.store().put_data_elements(&admin, &[el]).await.unwrap();
        a.reload().await.unwrap();
        assert!(b.engine().element("deaths").is_err());
        let c = b.catch_up().await.unwrap();
        assert!(c.reloaded);
        assert!(b.engine().element("deaths").is_ok());
        // A announced that reload after making it: its own marker does not rebuild it again.
        assert!(!a.catch_up().await.unwrap().reloaded);

        a.store().close().await;
        b.store().close().await;
        db.remove().await.unwrap();
    }

    /// With `follow_changes` running, a write through A reaches B by notification alone (the
    /// safety net is set far beyond the bound).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_follower_applies_changes_as_they_are_announced() {
        let Some(server) = postgres_test_url() else {
            eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL story skipped");
            return;
        };
        let db = TestDatabase::create(&server).await.unwrap();
        let config = StoreConfig::new(".", Some(db.url.clone()));
        let a = App::open(Store::open(&config).await.unwrap())
            .await
            .unwrap();
        let admin = a.local_caps("admin").registry_admin().unwrap();
        a.import_areas(&admin, &areas()).await.unwrap();
        let el = DataElement::new("births", "活产数", ValueType::Number, Aggregation::Sum).unwrap();
        a.store().put_data_elements(&admin, &[el]).await.unwrap();
        a.reload().await.unwrap();
        let b = Arc::new(
            App::open(Store::open(&config).await.unwrap())
                .await
                .unwrap(),
        );
        let follower = tokio::spawn(follow_changes(b.clone(), Duration::from_secs(3600)));
        let writer = a.local_caps("reporter").value_writer().unwrap();
        for (i, area) in ["445300", "440310001001"].iter().enumerate() {
            a.put_data_value(&writer, &number("births", area, "202402", 7.0), None)
                .await
                .unwrap();
            let start = std::time::Instant::now();
            while province(&b, births(), "2024") != (Some(7.0 * (i + 1) as f64), i as u64 + 1) {
                assert!(
                    start.elapsed() < Duration::from_secs(5),
                    "B did not apply the write: {:?}",
                    province(&b, births(), "2024")
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        follower.abort();
        a.store().close().await;
        b.store().close().await;
        db.remove().await.unwrap();
    }

    #[tokio::test]
    async fn sqlite_has_no_feed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("hp.db")).await.unwrap();
        assert!(!store.is_shared());
        let app = App::open(store).await.unwrap();
        assert_eq!(app.catch_up().await.unwrap(), CatchUp::default());
        assert_eq!(app.seen_change(), 0);
    }
}
