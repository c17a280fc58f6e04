//! Transactions as they are committed, announced for the transaction monitor.
//!
//! The gateway announces the ids of the transactions it writes; every instance's monitor
//! (the monitor service) reads them once and sends each watcher what it may see.
//!
//! On PostgreSQL the announcement is a `NOTIFY` inside the transaction that writes them: the
//! database delivers it to every listening instance when, and only if, the transaction commits, and
//! in the order of the commits, whichever instance wrote it. On SQLite there is one instance: the
//! writer tells its own process after the commit. Either way an id is announced only once it is
//! visible to a reader, so a watcher that reads what it was told about finds it.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement};
use tokio::sync::broadcast;

/// The PostgreSQL channel of the announcements.
pub const CHANNEL: &str = "vpos_new_transactions";

/// Announcements kept for a subscriber that is late; one later than that is told it missed some.
const CAPACITY: usize = 1024;

/// Ids in one announcement at most: a `NOTIFY` payload must stay under 8,000 bytes (a group of sales
/// is at most 256 ids of at most 20 digits and a comma each).
const MAX_IDS: usize = 256;

/// What a subscriber hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announcement {
    /// These transactions were committed.
    Committed(Arc<[i64]>),
    /// Announcements may have been lost (the listening connection was lost and opened again):
    /// whoever keeps a view of the latest transactions reads it afresh.
    Gap,
}

/// The announcements of this process.
#[derive(Debug, Clone)]
pub struct Feed {
    sender: broadcast::Sender<Announcement>,
}

impl Default for Feed {
    fn default() -> Self {
        Self::new()
    }
}

impl Feed {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Announcement> {
        self.sender.subscribe()
    }

    /// Commits `txn`, which wrote the transactions `ids`, and announces them: on PostgreSQL by a
    /// notification sent inside it (the database delivers it to every instance at the commit, and
    /// only if it commits), on SQLite to this process once committed.
    pub async fn commit(&self, txn: DatabaseTransaction, ids: &[i64]) -> Result<(), DbErr> {
        let backend = txn.get_database_backend();
        if backend == DbBackend::Postgres {
            for chunk in ids.chunks(MAX_IDS) {
                txn.execute_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), payload(chunk).into()],
                ))
                .await?;
            }
        }
        txn.commit().await?;
        if backend != DbBackend::Postgres && !ids.is_empty() {
            // No subscriber (no monitor open) is no error.
            let _ = self.sender.send(Announcement::Committed(ids.into()));
        }
        Ok(())
    }

    /// Listens to the database's announcements (PostgreSQL) on a connection of its own until the
    /// process ends, passing them on to this process's subscribers. A lost connection is opened
    /// again, and the subscribers are told that some may have been missed meanwhile.
    /// It stops trying once nothing else holds the feed.
    pub async fn listen(self, database_url: String) {
        use sea_orm::sqlx::postgres::PgListener;
        let feed = self.sender.downgrade();
        drop(self);
        let mut wait = Duration::from_millis(100);
        loop {
            let Some(sender) = feed.upgrade() else {
                return;
            };
            let mut listener = match PgListener::connect(&database_url).await {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for new transactions; trying again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            if let Err(error) = listener.listen(CHANNEL).await {
                tracing::warn!(%error, "cannot listen for new transactions; trying again");
                tokio::time::sleep(wait).await;
                continue;
            }
            wait = Duration::from_millis(100);
            // Whatever was announced before this connection listened is not heard.
            let _ = sender.send(Announcement::Gap);
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => {
                        let ids = parse_payload(notification.payload());
                        if !ids.is_empty() {
                            let _ = sender.send(Announcement::Committed(ids.into()));
                        }
                    }
                    // The connection was lost: announcements until it is back are not heard.
                    Ok(None) => {
                        tracing::warn!("the connection listening for new transactions was lost");
                        let _ = sender.send(Announcement::Gap);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "listening for new transactions failed; listening again");
                        break;
                    }
                }
            }
        }
    }
}

/// `12,13,14`.
fn payload(ids: &[i64]) -> String {
    let mut text = String::with_capacity(ids.len() * 8);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&id.to_string());
    }
    text
}

/// The ids of a payload; anything else in it (another writer's mistake) is skipped.
fn parse_payload(text: &str) -> Vec<i64> {
    text.split(',')
        .take(MAX_IDS)
        .filter_map(|id| id.trim().parse().ok())
        .filter(|id: &i64| *id > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_as_a_comma_separated_payload() {
        let ids = [1, 22, 9_000_000_001];
        assert_eq!(payload(&ids), "1,22,9000000001");
        assert_eq!(parse_payload(&payload(&ids)), ids);
        assert_eq!(parse_payload("5,x,-3,,7"), [5, 7]);
    }

    #[test]
    fn a_full_group_fits_one_notification() {
        let ids = vec![i64::MAX; MAX_IDS];
        assert!(payload(&ids).len() < 8000);
    }

    #[tokio::test]
    async fn on_sqlite_the_writer_tells_its_own_process() {
        use sea_orm::TransactionTrait;
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("an in-memory database");
        let feed = Feed::new();
        let mut heard = feed.subscribe();
        let commit = |ids: &'static [i64]| {
            let (db, feed) = (db.clone(), feed.clone());
            async move {
                let txn = db.begin().await.expect("begin");
                feed.commit(txn, ids).await.expect("commit");
            }
        };
        commit(&[4, 5]).await;
        commit(&[]).await;
        assert_eq!(
            heard.recv().await.expect("announced"),
            Announcement::Committed(Arc::from([4, 5]))
        );
        assert!(heard.try_recv().is_err(), "nothing else is announced");
    }
}
