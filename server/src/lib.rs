//! The server and platform tools of the VPOS merchant console.

pub mod cli;
pub mod demo;
pub mod downloads;
pub mod guard;
pub mod http;
pub mod pki;
pub mod serve;
pub mod settings;
pub mod telemetry;
pub mod tls;
