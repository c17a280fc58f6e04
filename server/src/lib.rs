//! The server and platform tools of the VPOS merchant console.

/// mimalloc instead of the system allocator: glibc gives each busy thread its own arena and keeps
/// what they freed, so a large export read on one thread and written on another left the server
/// ~100 MiB larger; mimalloc returns it (docs/PERFORMANCE.md).
///
/// With its `override` feature mimalloc also stands in for `malloc` and `free` of the C code linked
/// into the binary, which is SQLite: sqlx copies every value of every row it reads (one `malloc` each)
/// on the connection's thread and frees it on another, and glibc's allocator was a tenth of the
/// server's time under the search load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod cli;
pub mod client;
pub mod demo;
pub mod gateway;
pub mod guard;
pub mod http;
pub mod memory;
pub mod metrics;
pub mod ops;
pub mod pki;
pub mod platform_cli;
pub mod serve;
pub mod settings;
pub mod simulate;
pub mod telemetry;
pub mod tls;
pub mod upload;
