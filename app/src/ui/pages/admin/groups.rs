//! Terminal groups (manual §3.7.4): the merchant's groups, adding one, and one group's page: its
//! name, its terminals, the operators confined to it, deleting it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::terminals::{
    get_group, list_groups, ChangeGroupTerminals, CreateGroup, DeleteGroup, GroupDetail, GroupRow,
    RenameGroup, TerminalOption,
};
use crate::domain::access::Function;
use crate::error::AppError;
use crate::i18n::{title_text, use_i18n, Label};
use crate::ui::components::alert::{go_to, ErrorAlert};
use crate::ui::components::form::FieldErrors;
use crate::ui::components::load::Loaded;
use crate::ui::paths::{self, id_param};

#[component]
pub fn GroupsPage() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateGroup>::new();
    let rows = Resource::new(move || create.version().get(), |_| list_groups());
    let name = RwSignal::new(String::new());
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            go_to(&paths::groups::detail_path(id));
        }
    });
    view! {
        <Title text=title_text(|l| Function::AdminTerminalGroups.label(l).to_owned())/>
        <h1>{move || Function::AdminTerminalGroups.label(i18n.lang())}</h1>
        {move || error.get().filter(|e| !matches!(e, AppError::Invalid(_))).map(|error| view! { <ErrorAlert error/> })}
        <div class="toolbar">
            <form class="search-form" data-form="group-create" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                create.dispatch(CreateGroup { name: name.get_untracked() });
            }>
                <input id="group_name" type="text" maxlength="64" required
                    aria-label=move || i18n.t().grp_new_name placeholder=move || i18n.t().grp_new_name
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <button type="submit" class="button button-primary" disabled=move || create.pending().get()>
                    {move || i18n.t().grp_create}
                </button>
            </form>
        </div>
        <FieldErrors error field="name"/>
        <Loaded resource=rows ok={move |rows: Vec<GroupRow>| if rows.is_empty() {
            view! { <p class="muted">{move || i18n.t().grp_none}</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="table" data-table="groups">
                        <thead>
                            <tr>
                                <th scope="col">{move || i18n.t().grp_name}</th>
                                <th scope="col" class="num">{move || i18n.t().grp_terminals}</th>
                                <th scope="col" class="num">{move || i18n.t().grp_operators}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows.into_iter().map(|row| { let key = row.name.clone(); view! {
                                <tr data-group=key>
                                    <td><A href=paths::groups::detail_path(row.id)>{row.name}</A></td>
                                    <td class="num">{row.terminals}</td>
                                    <td class="num">{row.operators}</td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}/>
    }
}

#[component]
pub fn GroupPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let version = RwSignal::new(0_u32);
    let detail = Resource::new(move || (id.get(), version.get()), |(id, _)| get_group(id));
    view! {
        <Title text=title_text(|l| Function::AdminTerminalGroups.label(l).to_owned())/>
        <p><A href=paths::groups::LIST_PATH>{move || i18n.t().grp_back}</A></p>
        <Loaded resource=detail ok=move |detail| view! { <GroupView detail version/> }/>
    }
}

fn terminal_label(t: &TerminalOption) -> String {
    match &t.alias {
        Some(alias) => format!("{} {alias}", t.terminal_no),
        None => t.terminal_no.clone(),
    }
}

#[component]
fn GroupView(detail: GroupDetail, version: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let id = detail.id;
    let name = RwSignal::new(detail.name.clone());
    let rename = ServerAction::<RenameGroup>::new();
    let delete = ServerAction::<DeleteGroup>::new();
    let change = ServerAction::<ChangeGroupTerminals>::new();
    let adding = RwSignal::new(Vec::<i64>::new());
    let last_error = RwSignal::new(None::<AppError>);
    let done = move |result: Option<Result<(), AppError>>| match result {
        Some(Ok(())) => {
            last_error.set(None);
            version.update(|v| *v += 1);
        }
        Some(Err(e)) => last_error.set(Some(e)),
        None => {}
    };
    Effect::new(move |_| done(rename.value().get()));
    Effect::new(move |_| done(change.value().get()));
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => go_to(paths::groups::LIST_PATH),
        Some(Err(e)) => last_error.set(Some(e)),
        None => {}
    });
    let error = Signal::derive(move || last_error.get());
    let operators = detail.operators.clone();
    let confined = !operators.is_empty();
    view! {
        <h1>{detail.name.clone()}</h1>
        {move || error.get().filter(|e| !matches!(e, AppError::Invalid(_))).map(|error| view! { <ErrorAlert error/> })}
        <div class="cards">
            <section class="card">
                <form class="form" data-form="group-rename" on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    rename.dispatch(RenameGroup { id, name: name.get_untracked() });
                }>
                    <div class="field">
                        <label for="group_name">{move || i18n.t().grp_name}</label>
                        <input id="group_name" type="text" maxlength="64" required prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))/>
                        <FieldErrors error field="name"/>
                    </div>
                    <button type="submit" class="button">{move || i18n.t().grp_rename}</button>
                </form>
                <h2>{move || i18n.t().grp_operators}</h2>
                {if confined {
                    view! { <ul class="plain" data-list="group-operators">{operators.into_iter().map(|login| view! { <li class="mono">{login}</li> }).collect_view()}</ul> }.into_any()
                } else {
                    view! { <p class="muted">{move || i18n.t().grp_no_operators}</p> }.into_any()
                }}
                <button type="button" class="button button-danger" data-action="delete-group"
                    disabled=move || delete.pending().get()
                    on:click=move |_| { delete.dispatch(DeleteGroup { id }); }>
                    {move || i18n.t().grp_delete}
                </button>
                {confined.then(|| view! { <p class="hint">{move || i18n.t().grp_delete_hint}</p> })}
            </section>
            <section class="card">
                <h2>{move || i18n.t().grp_terminals}</h2>
                {if detail.members.is_empty() {
                    view! { <p class="muted">{move || i18n.t().grp_no_terminals}</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain" data-list="group-terminals">
                            {detail.members.clone().into_iter().map(|t| {
                                let tid = t.id;
                                let (key, label) = (t.terminal_no.clone(), terminal_label(&t));
                                view! {
                                    <li data-terminal=key>
                                        <A href=paths::terminals::detail_path(tid)>{label}</A> " "
                                        <button type="button" class="button button-small"
                                            on:click=move |_| { change.dispatch(ChangeGroupTerminals { id, add: Vec::new(), remove: vec![tid] }); }>
                                            {move || i18n.t().grp_remove}
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
                {(!detail.others.is_empty()).then(|| {
                    let others = detail.others.clone();
                    view! {
                        <form class="form" data-form="group-add" on:submit=move |ev: leptos::ev::SubmitEvent| {
                            ev.prevent_default();
                            let add = adding.get_untracked();
                            if !add.is_empty() {
                                change.dispatch(ChangeGroupTerminals { id, add, remove: Vec::new() });
                                adding.set(Vec::new());
                            }
                        }>
                            <fieldset class="field">
                                <legend>{move || i18n.t().grp_add_terminals}</legend>
                                <div class="check-columns">
                                    {others.into_iter().map(|t| {
                                        let tid = t.id;
                                        let label = terminal_label(&t);
                                        view! {
                                            <label class="check-label">
                                                <input type="checkbox" name="add" value=t.terminal_no.clone()
                                                    prop:checked=move || adding.with(|a| a.contains(&tid))
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        adding.update(|a| {
                                                            a.retain(|x| *x != tid);
                                                            if on { a.push(tid); }
                                                        });
                                                    }/>
                                                {label}
                                            </label>
                                        }
                                    }).collect_view()}
                                </div>
                            </fieldset>
                            <button type="submit" class="button button-primary" disabled=move || adding.with(Vec::is_empty) || change.pending().get()>
                                {move || i18n.t().grp_add}
                            </button>
                        </form>
                    }
                })}
            </section>
        </div>
    }
}
