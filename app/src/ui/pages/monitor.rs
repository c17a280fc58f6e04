//! The transaction monitor (manual §3.5): the latest 20 transactions of the operator's scope, newest
//! first. The server renders them (without JavaScript the page is a list with a refresh link); in
//! the browser the page then listens to the live stream (server-sent events), shows each new
//! transaction as it comes (marked new for a few seconds), can be paused (what comes meanwhile is
//! counted and shown on resume), says whether it is connected, and reconnects by itself. On every
//! (re)connection the server sends the latest rows again, which the page merges with what it shows
//! by id: nothing missed, nothing twice.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::monitor::{monitor_latest, MonitorFilter, MonitorRow, MonitorView, LATEST};
use crate::domain::access::Function;
use crate::domain::SessionEnd;
use crate::i18n::{title_text, use_i18n, Label};
use crate::ui::components::badge::StatusBadge;
use crate::ui::components::cells::When;
use crate::ui::components::load::Loaded;
use crate::ui::components::money::MoneyText;
use crate::ui::paths;

/// The page's address.
pub const PATH: &str = "/monitor";

/// How long a new row stays marked new.
const NEW_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// Where the page stands with the live stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Only the browser's side of the page moves past `Static`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Connection {
    /// Rendered by the server: nothing updates it (no JavaScript, or not hydrated yet).
    Static,
    Connecting,
    Live,
    Reconnecting,
    /// The session ended: the stream is closed for good.
    Ended(SessionEnd),
    /// The server refused to (re)open the stream (the session is gone, or the operator may no
    /// longer watch): closed for good.
    Refused,
}

#[component]
pub fn MonitorPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        MonitorFilter::from_query(|k| q.get(k).unwrap_or_default())
    });
    let latest = Resource::new(move || filter.get(), monitor_latest);
    view! {
        <Title text=title_text(|l| Function::MonitorView.label(l).to_owned())/>
        <h1>{move || Function::MonitorView.label(i18n.lang())}</h1>
        <p class="muted">{move || i18n.t().monitor_about}</p>
        <Loaded resource=latest ok=move |view: MonitorView| {
            view! { <Monitor view filter=filter.get_untracked()/> }
        }/>
    }
}

/// What the page shows and holds back.
#[derive(Debug, Clone, Default)]
struct Shown {
    rows: Vec<MonitorRow>,
    /// Rows that came while paused, to be shown on resume.
    waiting: Vec<MonitorRow>,
    /// Rows marked new.
    fresh: HashSet<i64>,
}

impl Shown {
    /// Takes in `incoming` (newest first or not), skipping rows already shown or waiting; returns
    /// the ids of the rows it shows or keeps waiting for the first time.
    #[cfg_attr(not(any(feature = "hydrate", test)), allow(dead_code))]
    fn take(&mut self, incoming: Vec<MonitorRow>, paused: bool) -> Vec<i64> {
        let known: HashSet<i64> = self
            .rows
            .iter()
            .chain(&self.waiting)
            .map(|r| r.id)
            .collect();
        let new: Vec<MonitorRow> = incoming
            .into_iter()
            .filter(|r| !known.contains(&r.id))
            .collect();
        let ids: Vec<i64> = new.iter().map(|r| r.id).collect();
        if paused {
            self.waiting.extend(new);
            self.waiting.sort_by(MonitorRow::newest_first);
        } else {
            self.show(new);
        }
        ids
    }

    /// Shows `rows`, marked new, and keeps the latest [`LATEST`].
    fn show(&mut self, rows: Vec<MonitorRow>) {
        self.fresh.extend(rows.iter().map(|r| r.id));
        self.rows.extend(rows);
        self.rows.sort_by(MonitorRow::newest_first);
        self.rows.truncate(LATEST);
        let kept: HashSet<i64> = self.rows.iter().map(|r| r.id).collect();
        self.fresh.retain(|id| kept.contains(id));
    }

    fn resume(&mut self) {
        let waiting = std::mem::take(&mut self.waiting);
        self.show(waiting);
    }
}

#[component]
fn Monitor(view: MonitorView, filter: MonitorFilter) -> impl IntoView {
    let i18n = use_i18n();
    let MonitorView {
        latest,
        groups,
        terminals,
    } = view;
    let shown = RwSignal::new(Shown {
        rows: latest.rows,
        ..Shown::default()
    });
    let paused = RwSignal::new(false);
    let connection = RwSignal::new(Connection::Static);
    let query = filter.query_string();
    let refresh = if query.is_empty() {
        PATH.to_owned()
    } else {
        format!("{PATH}?{query}")
    };
    // After hydration, so that the server's HTML is taken over as it was rendered.
    #[cfg(feature = "hydrate")]
    {
        let query = query.clone();
        Effect::new(move |_| live::listen(&query, shown, paused, connection));
    }
    let toggle = move |_| {
        if paused.get_untracked() {
            shown.update(Shown::resume);
            unmark_later(shown);
        }
        paused.update(|p| *p = !*p);
    };
    let chosen = filter.clone();
    view! {
        <form class="toolbar search-form" data-form="monitor-filter" method="get" action=PATH>
            <select name="group" aria-label=move || i18n.t().txn_group>
                <option value="">{move || i18n.t().term_any_group}</option>
                {groups.into_iter().map(|g| {
                    let id = g.id.to_string();
                    let selected = chosen.group == id;
                    view! { <option value=id selected=selected>{g.name}</option> }
                }).collect_view()}
            </select>
            <select name="terminal" aria-label=move || i18n.t().txn_terminal>
                <option value="">{move || i18n.t().monitor_any_terminal}</option>
                {terminals.into_iter().map(|t| {
                    let selected = chosen.terminal.eq_ignore_ascii_case(&t.terminal_no);
                    let label = match &t.alias {
                        Some(alias) => format!("{} {alias}", t.terminal_no),
                        None => t.terminal_no.clone(),
                    };
                    view! { <option value=t.terminal_no selected=selected>{label}</option> }
                }).collect_view()}
            </select>
            <button type="submit" class="button">{move || i18n.t().monitor_apply}</button>
            <a class="button secondary" href=refresh data-action="refresh">{move || i18n.t().monitor_refresh}</a>
            <button type="button" class="button secondary" data-action="pause"
                disabled=move || !matches!(connection.get(), Connection::Live | Connection::Reconnecting | Connection::Connecting)
                on:click=toggle>
                {move || if paused.get() { i18n.t().monitor_resume } else { i18n.t().monitor_pause }}
            </button>
        </form>
        <p class="monitor-state" data-field="monitor-state" data-state=move || state_code(connection.get())
            role="status" aria-live="polite">
            {move || {
                let t = i18n.t();
                match connection.get() {
                    Connection::Static => t.monitor_static.to_owned(),
                    Connection::Connecting => t.monitor_connecting.to_owned(),
                    Connection::Reconnecting => t.monitor_reconnecting.to_owned(),
                    Connection::Ended(reason) => (t.monitor_ended)(reason),
                    Connection::Refused => t.monitor_refused.to_owned(),
                    Connection::Live if paused.get() => (t.monitor_paused)(shown.with(|s| s.waiting.len())),
                    Connection::Live => t.monitor_live.to_owned(),
                }
            }}
        </p>
        <Show when=move || shown.with(|s| !s.rows.is_empty())
            fallback=move || view! { <p class="muted" data-field="monitor-none">{move || i18n.t().monitor_none}</p> }>
            <div class="table-wrap">
                <table class="table" id="monitor-table">
                    <thead>
                        <tr>
                            <th>{move || i18n.t().txn_col_time}</th>
                            <th>{move || i18n.t().txn_terminal}</th>
                            <th>{move || i18n.t().txn_type} <br/> <span class="muted">{move || i18n.t().txn_status}</span></th>
                            <th>{move || i18n.t().txn_col_card}</th>
                            <th class="num">{move || i18n.t().txn_col_amount}</th>
                            <th>{move || i18n.t().monitor_col_response}</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || shown.get().rows key=|row| row.id let:row>
                            <Row row shown/>
                        </For>
                    </tbody>
                </table>
            </div>
        </Show>
    }
}

#[component]
fn Row(row: MonitorRow, shown: RwSignal<Shown>) -> impl IntoView {
    let i18n = use_i18n();
    let id = row.id;
    let fresh = move || shown.with(|s| s.fresh.contains(&id));
    let (txn_type, status) = (row.txn_type, row.status);
    view! {
        <tr data-id=id class:fresh=fresh>
            <td><a href=paths::transactions::detail_path(id)><When at=row.time/></a>
                <Show when=fresh><span class="badge badge-new">{move || i18n.t().monitor_new}</span></Show></td>
            <td><span class="mono">{row.terminal_no}</span><br/><span class="muted">{row.terminal_alias.unwrap_or_default()}</span></td>
            <td class="nowrap">{move || txn_type.label(i18n.lang())} <br/> <StatusBadge status/></td>
            <td class="mono nowrap">{row.card_masked}</td>
            <td class="num"><MoneyText fen=row.amount_fen/></td>
            <td class="mono">{row.response_code.unwrap_or_else(|| "—".to_owned())}</td>
        </tr>
    }
}

/// The connection's state as the page's `data-state` says it (for scripts and tests).
fn state_code(connection: Connection) -> &'static str {
    match connection {
        Connection::Static => "static",
        Connection::Connecting => "connecting",
        Connection::Live => "live",
        Connection::Reconnecting => "reconnecting",
        Connection::Ended(_) | Connection::Refused => "ended",
    }
}

/// Unmarks the rows marked new once they have been new for [`NEW_FOR`].
fn unmark_later(shown: RwSignal<Shown>) {
    let marked: Vec<i64> = shown.with_untracked(|s| s.fresh.iter().copied().collect());
    set_timeout(
        move || {
            let _ = shown.try_update(|s| {
                for id in &marked {
                    s.fresh.remove(id);
                }
            });
        },
        NEW_FOR,
    );
}

/// The live stream, in the browser.
#[cfg(feature = "hydrate")]
mod live {
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Event, EventSource, MessageEvent};

    use super::{unmark_later, Connection, Shown};
    use crate::contract::monitor::{event, Latest, MonitorRow, StreamEnd, STREAM_PATH};

    /// The open stream and its handlers, closed when the page goes.
    struct Stream {
        source: EventSource,
        _handlers: Vec<Closure<dyn FnMut(MessageEvent)>>,
        _state: Vec<Closure<dyn FnMut(Event)>>,
    }

    pub(super) fn listen(
        query: &str,
        shown: RwSignal<Shown>,
        paused: RwSignal<bool>,
        connection: RwSignal<Connection>,
    ) {
        let url = if query.is_empty() {
            STREAM_PATH.to_owned()
        } else {
            format!("{STREAM_PATH}?{query}")
        };
        let Ok(source) = EventSource::new(&url) else {
            return;
        };
        connection.set(Connection::Connecting);
        let take = move |rows: Vec<MonitorRow>| {
            let paused = paused.get_untracked();
            let mut taken = Vec::new();
            shown.update(|s| taken = s.take(rows, paused));
            if !paused && !taken.is_empty() {
                unmark_later(shown);
            }
        };
        let on_latest = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(latest) = data::<Latest>(&e) {
                connection.set(Connection::Live);
                take(latest.rows);
            }
        });
        let on_rows = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(rows) = data::<Vec<MonitorRow>>(&e) {
                take(rows);
            }
        });
        let closing = source.clone();
        let on_end = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(end) = data::<StreamEnd>(&e) {
                closing.close();
                connection.set(Connection::Ended(end.reason));
            }
        });
        let watching = source.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            // The browser reconnects by itself unless the server refused the stream outright
            // (the session is gone): then it stays closed.
            let next = if watching.ready_state() == EventSource::CLOSED {
                Connection::Refused
            } else {
                Connection::Reconnecting
            };
            if !matches!(
                connection.get_untracked(),
                Connection::Ended(_) | Connection::Refused
            ) {
                connection.set(next);
            }
        });
        let _ = source
            .add_event_listener_with_callback(event::LATEST, on_latest.as_ref().unchecked_ref());
        let _ =
            source.add_event_listener_with_callback(event::ROWS, on_rows.as_ref().unchecked_ref());
        let _ =
            source.add_event_listener_with_callback(event::END, on_end.as_ref().unchecked_ref());
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let stream = StoredValue::new_local(Stream {
            source,
            _handlers: vec![on_latest, on_rows, on_end],
            _state: vec![on_error],
        });
        on_cleanup(move || {
            stream.try_with_value(|s| s.source.close());
        });
    }

    fn data<T: serde::de::DeserializeOwned>(e: &MessageEvent) -> Option<T> {
        serde_json::from_str(&e.data().as_string()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{TxnStatus, TxnType};

    fn row(id: i64, second: u32) -> MonitorRow {
        MonitorRow {
            id,
            time: format!("2026-12-07 10:00:{second:02}"),
            accepted_ms: i64::from(second) * 1000,
            terminal_no: "T1".into(),
            terminal_alias: None,
            txn_type: TxnType::Purchase,
            status: TxnStatus::Success,
            card_masked: "622848******1234".into(),
            amount_fen: 100,
            response_code: Some("00".into()),
        }
    }

    fn ids(rows: &[MonitorRow]) -> Vec<i64> {
        rows.iter().map(|r| r.id).collect()
    }

    #[test]
    fn rows_seen_again_after_a_reconnection_are_not_shown_twice() {
        let mut shown = Shown {
            rows: vec![row(2, 2), row(1, 1)],
            ..Shown::default()
        };
        // The latest rows again (a reconnection), with one that came meanwhile.
        let new = shown.take(vec![row(3, 3), row(2, 2), row(1, 1)], false);
        assert_eq!(new, [3]);
        assert_eq!(ids(&shown.rows), [3, 2, 1]);
        assert!(shown.fresh.contains(&3) && !shown.fresh.contains(&2));
    }

    #[test]
    fn only_the_latest_twenty_are_kept_newest_first() {
        let mut shown = Shown::default();
        shown.take((1..=25).map(|i| row(i, i as u32)).collect(), false);
        assert_eq!(shown.rows.len(), LATEST);
        assert_eq!(shown.rows[0].id, 25);
        assert_eq!(shown.rows[LATEST - 1].id, 6);
        // A late row older than all of them is not shown.
        assert!(shown.take(vec![row(0, 0)], false) == [0] && shown.rows[LATEST - 1].id == 6);
    }

    #[test]
    fn paused_rows_wait_are_counted_once_and_show_on_resume() {
        let mut shown = Shown {
            rows: vec![row(1, 1)],
            ..Shown::default()
        };
        shown.take(vec![row(2, 2)], true);
        shown.take(vec![row(3, 3), row(2, 2)], true);
        assert_eq!(ids(&shown.rows), [1]);
        assert_eq!(ids(&shown.waiting), [3, 2]);
        shown.resume();
        assert_eq!(ids(&shown.rows), [3, 2, 1]);
        assert!(shown.waiting.is_empty());
    }
}
