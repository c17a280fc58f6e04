//! `vpos`: serve the console, migrate the database, run the PKI, onboard merchants, load demo data.

fn main() -> std::process::ExitCode {
    server::cli::main()
}
