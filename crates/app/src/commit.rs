//! Group commit of data-value saves. A save joins a queue, then waits for the write lock;
//! whoever takes the lock commits everything queued in one transaction (one fsync), runs
//! [`App::mirror`] on what committed, and answers each waiting save. So saves that
//! arrive while another commits share the next commit, each caller is answered only after
//! its own values committed, and one caller's refused save fails alone.

use crate::{App, AppError, Result};
use healthplan_access::ValueWriter;
use healthplan_core::DataValue;
use healthplan_store::ValueGroup;
use std::sync::atomic::Ordering;
use tokio::sync::oneshot::{self, error::TryRecvError};

/// One caller's saves waiting for a commit.
pub(crate) struct Job {
    by: ValueWriter,
    values: Vec<(DataValue, Option<i64>)>,
    reply: oneshot::Sender<Result<Vec<DataValue>>>,
}

/// Saves waiting for the next commit.
#[derive(Default)]
pub(crate) struct Queue(std::sync::Mutex<Vec<Job>>);

/// Values one commit takes at most (the rest wait for the next): bounds one transaction.
const MAX_GROUP_VALUES: usize = 20_000;

impl Queue {
    fn push(&self, job: Job) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(job);
    }

    /// The oldest jobs up to [`MAX_GROUP_VALUES`] values (at least one job).
    fn take(&self) -> Vec<Job> {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut n = 0;
        let mut values = 0;
        while n < q.len() && (n == 0 || values + q[n].values.len() <= MAX_GROUP_VALUES) {
            values += q[n].values.len();
            n += 1;
        }
        q.drain(..n).collect()
    }
}

/// Marks the engine stale if a commit's follow-up is abandoned half way (the future that
/// ran it was dropped): the next commit rebuilds the engine from the store first.
struct InFlight<'a>(&'a App);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.engine_stale.store(true, Ordering::SeqCst);
    }
}

impl App {
    /// Saves one caller's values all or nothing, committed together with whatever other
    /// saves are waiting; answers after the commit and the engine update.
    pub(crate) async fn commit_values(
        &self,
        by: &ValueWriter,
        values: &[(DataValue, Option<i64>)],
    ) -> Result<Vec<DataValue>> {
        let (reply, mut answer) = oneshot::channel();
        self.queue.push(Job {
            by: by.clone(),
            values: values.to_vec(),
            reply,
        });
        loop {
            match answer.try_recv() {
                Ok(r) => return r,
                Err(TryRecvError::Closed) => return Err(interrupted()),
                Err(TryRecvError::Empty) => {}
            }
            let _w = self.write.lock().await;
            // A commit that ran while this caller waited for the lock may have taken its save.
            match answer.try_recv() {
                Ok(r) => return r,
                Err(TryRecvError::Closed) => return Err(interrupted()),
                Err(TryRecvError::Empty) => {}
            }
            self.recover_engine().await;
            let jobs = self.queue.take();
            let guard = InFlight(self);
            self.commit_jobs(jobs).await;
            std::mem::forget(guard);
        }
    }

    /// Commits the jobs as one group (the write lock held) and answers each.
    async fn commit_jobs(&self, jobs: Vec<Job>) {
        let groups: Vec<ValueGroup<'_>> =
            jobs.iter().map(|j| (&j.by, j.values.as_slice())).collect();
        let results = self.store.put_data_value_groups(&groups).await;
        drop(groups);
        let committed: Vec<DataValue> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .flatten()
            .cloned()
            .collect();
        self.mirror(&committed).await;
        for (job, r) in jobs.into_iter().zip(results) {
            let _ = job.reply.send(r.map_err(AppError::from));
        }
    }

    /// Rebuilds the engine if an earlier commit's follow-up was abandoned (write lock held).
    pub(crate) async fn recover_engine(&self) {
        if self.engine_stale.swap(false, Ordering::SeqCst) {
            self.rebuild_after(AppError::Input(
                "a commit's engine update was interrupted".into(),
            ))
            .await;
        }
    }
}

/// The commit that carried this save was abandoned half way: it may or may not be stored.
fn interrupted() -> AppError {
    AppError::Panicked("the save was interrupted before its answer; reload to see whether it was stored / 保存被中断，请刷新查看是否已保存".into())
}
