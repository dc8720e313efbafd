//! Processing jobs: each node runs one worker that claims a picture's job from the database
//! (a lease, so one node does each), makes its variants on a blocking thread and stores them.
//! A job whose node stopped is claimed again once its lease runs out: work resumes after a
//! restart, on this node or another.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Notify;

use super::process;
use super::store::{MediaStore, variant_key};
use crate::storage::Db;
use crate::storage::pictures::{self, Job};

/// How long a claimed job is this node's (a 50-megapixel picture takes well under a minute).
const LEASE_SECONDS: i64 = 300;
/// How often an idle worker looks for jobs other nodes queued.
const POLL: Duration = Duration::from_secs(2);

/// The media store and the worker's doorbell, shared by the app.
pub struct Media {
    pub store: MediaStore,
    /// Rung after a picture is queued on this node, so the worker starts at once.
    pub wake: Notify,
}

impl Media {
    pub fn new(store: MediaStore) -> Arc<Self> {
        Arc::new(Self { store, wake: Notify::new() })
    }
}

/// Works through queued pictures forever.
pub async fn run(db: Db, media: Arc<Media>, node: String) {
    loop {
        match run_once(&db, &media.store, &node).await {
            Ok(true) => continue,
            Ok(false) => {
                let _ = tokio::time::timeout(POLL, media.wake.notified()).await;
            }
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "picture jobs: could not claim a job");
                tokio::time::sleep(POLL * 3).await;
            }
        }
    }
}

/// Claims and processes one job; `false` when there was none.
pub async fn run_once(db: &Db, store: &MediaStore, node: &str) -> anyhow::Result<bool> {
    let Some(job) = pictures::claim(db, node, LEASE_SECONDS).await? else {
        return Ok(false);
    };
    let started = std::time::Instant::now();
    match process_job(store, &job).await {
        Ok(files) => {
            pictures::finish(db, &job).await?;
            tracing::info!(
                picture = job.picture_id,
                version = job.version,
                files,
                ms = started.elapsed().as_millis() as u64,
                "picture processed"
            );
        }
        Err(err) => {
            let reason = format!("{err:#}");
            tracing::warn!(picture = job.picture_id, attempt = job.attempts, error = %reason, "picture processing failed");
            pictures::fail(db, &job, &reason).await?;
        }
    }
    Ok(true)
}

async fn process_job(store: &MediaStore, job: &Job) -> anyhow::Result<usize> {
    let original = store
        .get(&job.original)
        .await?
        .with_context(|| format!("the original {} is missing from the media store", job.original))?;
    let focus = (job.focus_x as f64 / 10_000.0, job.focus_y as f64 / 10_000.0);
    let variants = tokio::task::spawn_blocking(move || {
        let image = process::prepare(&original)?;
        drop(original);
        process::variants(&image, focus)
    })
    .await
    .context("the processing thread stopped")??;
    let count = variants.len();
    for v in variants {
        store.put(&variant_key(job.picture_id, job.version, &v.name), v.bytes).await?;
    }
    Ok(count)
}
