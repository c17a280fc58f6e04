pub mod help;
pub mod home;
pub mod not_found;
