//! The role ↔ function matrix (manual §3.7.1).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::{role_matrix, RoleMatrixView};
use crate::domain::access::Function;
use crate::i18n::{title_text, use_i18n, Label};
use crate::ui::components::load::Loaded;

#[component]
pub fn RoleMatrixPage() -> impl IntoView {
    let i18n = use_i18n();
    let matrix = Resource::new(|| (), |_| role_matrix());
    let title = move || Function::AdminRoleMatrix.label(i18n.lang());
    view! {
        <Title text=title_text(|l| Function::AdminRoleMatrix.label(l).to_owned())/>
        <h1>{title}</h1>
        <p class="muted">{move || i18n.t().roles_intro}</p>
        <Loaded resource=matrix ok=move |view| view! { <MatrixTable view/> }/>
    }
}

#[component]
fn MatrixTable(view: RoleMatrixView) -> impl IntoView {
    let i18n = use_i18n();
    let roles = view.roles;
    let header = roles.clone();
    view! {
        <div class="table-wrap">
            <table class="table matrix" data-table="role-matrix">
                <thead>
                    <tr>
                        <th scope="col">{move || i18n.t().roles_function}</th>
                        {header
                            .into_iter()
                            .map(|r| view! { <th scope="col" data-role=r.code()>{move || r.label(i18n.lang())}</th> })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {view.rows
                        .into_iter()
                        .map(|(function, granted)| {
                            view! {
                                <tr data-function=function.code()>
                                    <th scope="row">{move || function.label(i18n.lang())}</th>
                                    {granted
                                        .into_iter()
                                        .map(|g| view! {
                                            <td class:granted=g>
                                                <span aria-hidden="true">{if g { "✓" } else { "—" }}</span>
                                                <span class="visually-hidden">
                                                    {move || if g { i18n.t().granted } else { i18n.t().not_granted }}
                                                </span>
                                            </td>
                                        })
                                        .collect_view()}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
