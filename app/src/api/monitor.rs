//! The transaction monitor (manual §3.5), for `monitor.view`: the page's latest transactions, and
//! the live stream of those committed since (server-sent events on the console's listener, under
//! the same certificate and session as every request).

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;

pub use crate::contract::monitor::*;

#[server(prefix = "/api", endpoint = "monitor/latest", input = GetUrl)]
pub async fn monitor_latest(
    #[server(default)] filter: MonitorFilter,
) -> Result<MonitorView, AppError> {
    use crate::backend::{services, RequestCtx};
    use crate::domain::access::Function;

    let ctx = RequestCtx::current()?;
    let session = ctx.authorize(Function::MonitorView).await?;
    services::monitor::view(&ctx.state.db, session, &filter).await
}

/// `GET /api/monitor/stream?group=…&terminal=…`: first the latest transactions of the watch (event
/// `latest`), then each transaction committed since that the watch sees (event `rows`), until the
/// browser goes or the session ends (event `end`, then the stream closes). The session and the
/// certificate are looked at again every [`crate::backend::AuthConfig::stream_check`], without
/// counting as activity.
#[cfg(feature = "ssr")]
pub async fn monitor_stream(
    axum::extract::State(state): axum::extract::State<crate::backend::AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::sse::{KeepAlive, Sse};
    use axum::response::IntoResponse;

    use crate::backend::services::monitor::Watch;
    use crate::backend::{CertificateCheck, RequestCtx};
    use crate::domain::access::Function;

    let lang = super::download::request_lang(&req);
    let filter = axum::extract::Query::<MonitorFilter>::try_from_uri(req.uri())
        .map(|q| q.0)
        .map_err(|_| AppError::invalid("group", crate::error::FieldProblem::Format));
    let check = req.extensions().get::<CertificateCheck>().cloned();
    let ctx = RequestCtx::for_request(state, req.extensions());
    drop(req);
    let opened = async {
        let ctx = ctx?;
        let session = ctx.authorize(Function::MonitorView).await?.clone();
        let check = check.ok_or(AppError::NoCertificate)?;
        let filter = filter?;
        let watch = Watch::of(&ctx.state.db, &session, &filter).await?;
        // Subscribed before the latest rows are read: whatever commits after the read is heard.
        let updates = ctx.state.monitor.subscribe();
        let latest = watch.latest(&ctx.state.db).await?;
        Ok::<_, AppError>((ctx, session, check, watch, updates, latest))
    };
    let (ctx, session, check, watch, updates, latest) = match opened.await {
        Ok(opened) => opened,
        Err(error) => return super::download::error_response(&error, lang),
    };
    let (events, received) = tokio::sync::mpsc::channel(16);
    tokio::spawn(stream::run(
        stream::Watcher {
            ctx,
            session,
            check,
            watch,
        },
        updates,
        latest,
        events,
    ));
    let body = futures::stream::unfold(received, |mut received| async move {
        received
            .recv()
            .await
            .map(|event| (Ok::<_, std::convert::Infallible>(event), received))
    });
    Sse::new(body)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[cfg(feature = "ssr")]
mod stream {
    use std::collections::HashSet;

    use axum::response::sse::Event;
    use tokio::sync::{broadcast, mpsc};

    use crate::backend::services::auth;
    use crate::backend::services::monitor::{Update, Watch};
    use crate::backend::{CertificateCheck, RequestCtx, Session};
    use crate::contract::monitor::{event, Latest, MonitorRow, StreamEnd};
    use crate::domain::SessionEnd;

    pub(super) struct Watcher {
        pub ctx: RequestCtx,
        pub session: Session,
        pub check: CertificateCheck,
        pub watch: Watch,
    }

    /// Sends the latest rows, then what the watch sees of each update, until the browser goes
    /// (`events` closed), the session ends, or the server stops.
    pub(super) async fn run(
        watcher: Watcher,
        mut updates: broadcast::Receiver<Update>,
        latest: Latest,
        events: mpsc::Sender<Event>,
    ) {
        // Rows of the latest read that may still be announced: not sent twice.
        let mut sent: HashSet<i64> = latest.rows.iter().map(|r| r.id).collect();
        if !send(&events, json_event(event::LATEST, &latest)).await {
            return;
        }
        let mut checks = tokio::time::interval(watcher.ctx.state.auth.stream_check);
        checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        checks.tick().await;
        let monitor = watcher.ctx.state.monitor.clone();
        let stopped = monitor.stopped();
        tokio::pin!(stopped);
        loop {
            let outgoing = tokio::select! {
                () = events.closed() => return,
                // The server is stopping: the browser reconnects to it or another instance.
                () = &mut stopped => return,
                update = updates.recv() => match update {
                    Ok(Update::Rows(published)) => {
                        let rows: Vec<&MonitorRow> = published
                            .iter()
                            .filter(|p| watcher.watch.sees(p) && !sent.contains(&p.row.id))
                            .map(|p| &p.row)
                            .collect();
                        if rows.is_empty() {
                            continue;
                        }
                        json_event(event::ROWS, &rows)
                    }
                    Ok(Update::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        match watcher.watch.latest(&watcher.ctx.state.db).await {
                            Ok(latest) => {
                                sent = latest.rows.iter().map(|r| r.id).collect();
                                json_event(event::LATEST, &latest)
                            }
                            Err(error) => {
                                tracing::warn!(%error, "reading the monitor's latest rows failed");
                                continue;
                            }
                        }
                    }
                    // The server is stopping: the browser reconnects to it or another instance.
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = checks.tick() => match ended(&watcher).await {
                    Some(reason) => {
                        let _ = send(&events, json_event(event::END, &StreamEnd { reason })).await;
                        return;
                    }
                    None => continue,
                },
            };
            if !send(&events, outgoing).await {
                return;
            }
        }
    }

    /// Why the watcher's session has ended, if it has: its certificate no longer holds, or the
    /// session was ended or ran out (read again, without counting as activity).
    async fn ended(watcher: &Watcher) -> Option<SessionEnd> {
        let ctx = &watcher.ctx;
        // The certificate by the time of the machine, as the TLS layer checks it at every
        // request; the session by the console's clock, as the request guard does.
        if !watcher.check.holds(&ctx.identity, chrono::Utc::now()) {
            return Some(SessionEnd::Certificate);
        }
        let now = ctx.state.clock.now();
        let state = &ctx.state;
        match auth::end_of(
            &state.db,
            &state.auth,
            &state.sessions,
            &watcher.session,
            &ctx.identity,
            now,
        )
        .await
        {
            Ok(end) => end,
            Err(error) => {
                // Looked at again at the next check.
                tracing::warn!(%error, "reading a monitor's session failed");
                None
            }
        }
    }

    fn json_event(name: &str, data: &impl serde::Serialize) -> Event {
        Event::default()
            .event(name)
            .json_data(data)
            .unwrap_or_else(|_| Event::default().comment("unserialisable"))
    }

    /// Whether the event went out (the browser is still there).
    async fn send(events: &mpsc::Sender<Event>, event: Event) -> bool {
        events.send(event).await.is_ok()
    }
}
