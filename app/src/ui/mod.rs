//! Components and pages.

pub mod components;
pub mod layout;
pub mod pages;
pub mod paths;
pub mod validity;
