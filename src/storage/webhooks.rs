//! Webhook subscriptions, deliveries and their attempts (migration 0015).

use crate::storage::{Db, Tx, now};
use crate::{fetch_all, fetch_optional, tx_exec, tx_fetch};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub active: i64,
    pub from_event: i64,
    pub created_at: i64,
}

impl WebhookRow {
    /// Whether event `id` of `kind` is delivered to this subscription.
    pub fn wants(&self, id: i64, kind: &str) -> bool {
        self.active != 0
            && id > self.from_event
            && self.events.split_whitespace().any(|e| e == "*" || e == kind)
    }
}

pub async fn create(tx: &mut Tx, url: &str, events: &str, secret: &str, by: i64) -> anyhow::Result<i64> {
    let (from,): (i64,) =
        tx_fetch!(fetch_one, tx, (i64,), "SELECT COALESCE(MAX(id), 0) FROM content_events")?;
    let (id,) = tx_fetch!(
        fetch_one,
        tx,
        (i64,),
        "INSERT INTO webhooks (url, events, secret, created_by, created_at, from_event) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        url,
        events,
        secret,
        by,
        now(),
        from
    )?;
    Ok(id)
}

pub async fn all(db: &Db) -> anyhow::Result<Vec<WebhookRow>> {
    Ok(fetch_all!(
        db,
        WebhookRow,
        "SELECT id, url, events, secret, active, from_event, created_at FROM webhooks ORDER BY id"
    )?)
}

pub async fn get(db: &Db, id: i64) -> anyhow::Result<Option<WebhookRow>> {
    Ok(fetch_optional!(
        db,
        WebhookRow,
        "SELECT id, url, events, secret, active, from_event, created_at FROM webhooks WHERE id = $1",
        id
    )?)
}

pub async fn set_active(tx: &mut Tx, id: i64, active: bool) -> anyhow::Result<()> {
    tx_exec!(tx, "UPDATE webhooks SET active = $1 WHERE id = $2", i64::from(active), id)?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: i64) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = $1)",
        id
    )?;
    tx_exec!(tx, "DELETE FROM webhook_deliveries WHERE webhook_id = $1", id)?;
    tx_exec!(tx, "DELETE FROM webhooks WHERE id = $1", id)?;
    Ok(())
}

/// One delivery per subscription and event (a second insert of the same pair does nothing).
pub async fn queue(
    tx: &mut Tx,
    webhook_id: i64,
    event_id: i64,
    kind: &str,
    subject_id: i64,
) -> anyhow::Result<()> {
    let t = now();
    tx_exec!(
        tx,
        "INSERT INTO webhook_deliveries (webhook_id, event_id, kind, subject_id, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (webhook_id, event_id) DO NOTHING",
        webhook_id,
        event_id,
        kind,
        subject_id,
        t
    )?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    pub kind: String,
    pub subject_id: i64,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

const DELIVERY_COLUMNS: &str =
    "id, webhook_id, event_id, kind, subject_id, state, attempts, next_attempt_at, created_at, delivered_at";

/// Claims the oldest due delivery for `lease` seconds (a compare-and-set: one node sends it).
pub async fn claim(db: &Db, lease: i64) -> anyhow::Result<Option<DeliveryRow>> {
    let t = now();
    let Some(row) = fetch_optional!(
        db,
        DeliveryRow,
        sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 \
             AND lease_until < $1 ORDER BY next_attempt_at, id LIMIT 1"
        )),
        t
    )?
    else {
        return Ok(None);
    };
    let mut tx = db.begin().await?;
    let won = tx_exec!(
        &mut tx,
        "UPDATE webhook_deliveries SET lease_until = $1 WHERE id = $2 AND state = 'pending' AND lease_until < $3",
        t + lease,
        row.id,
        t
    )? == 1;
    tx.commit().await?;
    Ok(won.then_some(row))
}

/// Records an attempt and its outcome: delivered, failed for good, or due again at `retry_at`.
pub async fn record_attempt(
    db: &Db,
    delivery: &DeliveryRow,
    status: Option<u16>,
    response: &str,
    duration_ms: i64,
    outcome: Outcome,
) -> anyhow::Result<()> {
    let t = now();
    let mut tx = db.begin().await?;
    tx_exec!(
        &mut tx,
        "INSERT INTO webhook_attempts (delivery_id, at, status, response, duration_ms) VALUES ($1, $2, $3, $4, $5)",
        delivery.id,
        t,
        status.map(i64::from),
        response,
        duration_ms
    )?;
    match outcome {
        Outcome::Delivered => tx_exec!(
            &mut tx,
            "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = $1, \
             lease_until = 0 WHERE id = $2",
            t,
            delivery.id
        )?,
        Outcome::Failed => tx_exec!(
            &mut tx,
            "UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1, lease_until = 0 WHERE id = $1",
            delivery.id
        )?,
        Outcome::Retry(at) => tx_exec!(
            &mut tx,
            "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1, lease_until = 0 WHERE id = $2",
            at,
            delivery.id
        )?,
    };
    tx.commit().await
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Failed,
    /// Due again at this time.
    Retry(i64),
}

/// Sends a delivery again now (a new round of attempts from the admin).
pub async fn redeliver(tx: &mut Tx, id: i64) -> anyhow::Result<bool> {
    Ok(tx_exec!(
        tx,
        "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, created_at = $1, lease_until = 0 \
         WHERE id = $2",
        now(),
        id
    )? == 1)
}

/// The newest deliveries of a subscription.
pub async fn deliveries(db: &Db, webhook_id: i64, limit: i64) -> anyhow::Result<Vec<DeliveryRow>> {
    Ok(fetch_all!(
        db,
        DeliveryRow,
        sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2"
        )),
        webhook_id,
        limit
    )?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: i64,
    pub at: i64,
    pub status: Option<i64>,
    pub response: String,
    pub duration_ms: i64,
}

/// Every attempt of the given deliveries, oldest first.
pub async fn attempts(db: &Db, delivery_ids: &[i64]) -> anyhow::Result<Vec<AttemptRow>> {
    if delivery_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT delivery_id, at, status, response, duration_ms FROM webhook_attempts WHERE delivery_id IN ({}) \
         ORDER BY id",
        crate::storage::placeholders(0, delivery_ids.len())
    );
    crate::storage::fetch_all_with_ids(db, sql, delivery_ids).await
}

pub async fn delivery(db: &Db, id: i64) -> anyhow::Result<Option<DeliveryRow>> {
    Ok(fetch_optional!(
        db,
        DeliveryRow,
        sqlx::AssertSqlSafe(format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1")),
        id
    )?)
}
