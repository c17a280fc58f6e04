pub mod alert;
pub mod form;
pub mod lang_switch;
pub mod money;
