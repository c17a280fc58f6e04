//! The browser side: hydrates the server-rendered page and nothing else.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::ui::validity::speak_the_consoles_language();
    leptos::mount::hydrate_body(app::App);
}
