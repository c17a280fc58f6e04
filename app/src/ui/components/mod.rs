pub mod alert;
pub mod badge;
pub mod form;
pub mod lang_switch;
pub mod load;
pub mod money;
pub mod pager;
pub mod tie_out;
