//! Holding the SSE or long-poll connection on one replica at a time: the replica holding the
//! feed lease runs the consumer; the others stand by and take over when the lease runs out.

use std::future::Future;

use redis::aio::ConnectionManager;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::keys::Keys;
use super::lease::Leases;
use crate::Result;
use crate::transport::Ready;

/// Runs `consume` whenever this replica holds the feed lease, until `stop`.
///
/// `consume` gets the SSE resume point the previous holder left (the id of the last event it
/// appended), the start-up notifier, and a token that fires when the lease is lost or the robot
/// stops. A standby replica counts as connected for start-up: its transport is another's.
pub(super) async fn hold<F, Fut>(
    leases: Leases,
    conn: ConnectionManager,
    keys: Keys,
    mut ready: Ready,
    stop: CancellationToken,
    mut consume: F,
) -> Result<()>
where
    F: FnMut(Option<String>, Ready, CancellationToken) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let key = keys.feed_owner();
    let tick = leases.ttl() / 3;
    let mut standing_by = false;
    loop {
        if stop.is_cancelled() {
            return Ok(());
        }
        match leases.try_take(&key).await {
            Ok(true) => {
                let resume = resume_point(&conn, &keys).await;
                tracing::info!(
                    replica = leases.holder(),
                    resume_from = resume.as_deref(),
                    "this replica holds the event connection"
                );
                standing_by = false;
                let held = stop.child_token();
                let renewer = tokio::spawn(keep(leases.clone(), key.clone(), held.clone()));
                let notifier = std::mem::replace(&mut ready, Ready::new().0);
                let outcome = consume(resume, notifier, held.clone()).await;
                held.cancel();
                let _ = renewer.await;
                if let Err(err) = leases.release(&key).await {
                    tracing::warn!(error = %err, "could not release the event connection's lease");
                }
                outcome?;
                if stop.is_cancelled() {
                    return Ok(());
                }
                tracing::warn!("lost the event connection's lease; standing by");
            }
            Ok(false) => {
                if !standing_by {
                    tracing::info!("another replica holds the event connection; standing by");
                    standing_by = true;
                }
                ready.connected();
            }
            Err(err) => tracing::warn!(error = %err, "could not ask for the event connection"),
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(tick) => {}
        }
    }
}

/// Renews the lease until `held` fires; fires it when the lease is lost, or when it could not
/// be renewed for a whole lease period (another replica may have taken it by then).
async fn keep(leases: Leases, key: String, held: CancellationToken) {
    let tick = leases.ttl() / 3;
    let mut renewed = Instant::now();
    loop {
        tokio::select! {
            () = held.cancelled() => return,
            () = tokio::time::sleep(tick) => {}
        }
        match leases.renew(&key).await {
            Ok(true) => renewed = Instant::now(),
            Ok(false) => {
                tracing::warn!("the event connection's lease was lost");
                held.cancel();
                return;
            }
            Err(err) if renewed.elapsed() >= leases.ttl() => {
                tracing::warn!(error = %err, "could not renew the event connection's lease in time");
                held.cancel();
                return;
            }
            Err(err) => {
                tracing::warn!(error = %err, "could not renew the event connection's lease")
            }
        }
    }
}

async fn resume_point(conn: &ConnectionManager, keys: &Keys) -> Option<String> {
    let mut conn = conn.clone();
    match redis::cmd("GET")
        .arg(keys.sse_resume())
        .query_async::<Option<String>>(&mut conn)
        .await
    {
        Ok(resume) => resume,
        Err(err) => {
            tracing::warn!(error = %err, "could not read the SSE resume point; starting fresh");
            None
        }
    }
}
