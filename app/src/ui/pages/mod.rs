pub mod admin;
pub mod help;
pub mod home;
pub mod login;
pub mod not_found;
pub mod password;
pub mod token;
