pub mod alert;
pub mod lang_switch;
pub mod money;
