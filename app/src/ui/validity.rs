//! The browser's own form checks in the console's language. A field marked `required` left empty is
//! stopped by the browser before the form is sent, with a bubble in the browser's language ("Please
//! fill out this field" on an English browser over a Chinese console); one listener on the document
//! gives every such field the console's words instead, read from the page's `lang`.

/// Installs the listeners; the browser calls it once, before hydrating.
#[cfg(feature = "hydrate")]
pub fn speak_the_consoles_language() {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Event, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

    use crate::i18n::Lang;

    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    // `text` for a field that is missing its value, "" to clear an earlier one.
    fn set(ev: &Event, text: impl Fn() -> &'static str) {
        let Some(target) = ev.target() else {
            return;
        };
        if let Some(input) = target.dyn_ref::<HtmlInputElement>() {
            let missing = input.validity().value_missing();
            input.set_custom_validity(if missing { text() } else { "" });
        } else if let Some(select) = target.dyn_ref::<HtmlSelectElement>() {
            let missing = select.validity().value_missing();
            select.set_custom_validity(if missing { text() } else { "" });
        } else if let Some(area) = target.dyn_ref::<HtmlTextAreaElement>() {
            let missing = area.validity().value_missing();
            area.set_custom_validity(if missing { text() } else { "" });
        }
    }
    let required = || {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|tag| Lang::from_tag(&tag))
            .unwrap_or_default()
            .texts()
            .field_required
    };
    // One listener: on `invalid` it words the message; on a value typed or chosen it clears it (else
    // the field would stay invalid).
    let check = Closure::<dyn Fn(Event)>::new(move |ev: Event| set(&ev, required));
    let listener = check.as_ref().unchecked_ref();
    // `invalid` does not bubble: listen while it travels down.
    let _ = document.add_event_listener_with_callback_and_bool("invalid", listener, true);
    for kind in ["input", "change"] {
        let _ = document.add_event_listener_with_callback(kind, listener);
    }
    // The listener lives as long as the page.
    check.forget();
}
