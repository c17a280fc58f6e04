//! `vpos read-upload`: reads an uploaded batch file (an .xlsx workbook) from standard input and
//! writes the cells of its first sheet to standard output as JSON
//! (`app::backend::services::fast_refunds::upload::ReadOutcome`).
//!
//! The console runs it as a child process for every upload, because the file is hostile until read:
//! a zip that unpacks to gigabytes, XML that never ends, a declared string count or sheet size
//! that would reserve terabytes. Before it reads anything, the process limits its own memory and CPU
//! time, so such a file ends this process (which the console reports as a file too large
//! or too slow to read), never the server. The sheet is read cell by cell, never as a range sized
//! by what the file declares, and a cell outside the template's columns or past the row limit stops
//! the reading with that answer.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::process::ExitCode;

use calamine::{DataRef, Reader, Xlsx};

use app::backend::services::fast_refunds::upload::{RawRow, ReadOutcome, READ_COLUMNS};
use app::contract::fast_refunds::FileProblem;

/// The longest text kept of one cell, in characters: longer than any field of the template.
const CELL_CHARS: usize = 256;

#[derive(Debug, Clone, clap::Args)]
pub struct ReadUploadArgs {
    /// Data rows (under the header) the file may have.
    #[arg(long)]
    pub max_rows: u64,
    /// Bytes the file may have.
    #[arg(long)]
    pub max_bytes: u64,
    /// Address space the process may use, in MiB.
    #[arg(long, default_value_t = 1024)]
    pub memory_mib: u64,
    /// CPU seconds the process may use.
    #[arg(long, default_value_t = 10)]
    pub cpu_secs: u64,
    /// Write the process's peak resident memory to standard error at the end (`peak_kib=N`), for
    /// the benchmark.
    #[arg(long)]
    pub report_peak: bool,
}

pub fn run(args: &ReadUploadArgs) -> ExitCode {
    if let Err(error) = limit_self(args.memory_mib, args.cpu_secs) {
        eprintln!("error: cannot limit the reader: {error}");
        return ExitCode::FAILURE;
    }
    let mut bytes = Vec::new();
    if let Err(error) = std::io::stdin()
        .lock()
        .take(args.max_bytes + 1)
        .read_to_end(&mut bytes)
    {
        eprintln!("error: reading the file: {error}");
        return ExitCode::FAILURE;
    }
    let outcome = if bytes.len() as u64 > args.max_bytes {
        ReadOutcome::Problem(FileProblem::TooLarge {
            max_bytes: args.max_bytes,
        })
    } else {
        // A parser's panic on a malformed file is that file's problem, not a crash to report.
        std::panic::set_hook(Box::new(|_| {}));
        std::panic::catch_unwind(|| read(&bytes, args.max_rows))
            .unwrap_or(ReadOutcome::Problem(FileProblem::Unreadable))
    };
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, &outcome)
        .map_err(std::io::Error::from)
        .and_then(|()| out.flush());
    if args.report_peak {
        let peak = crate::memory::peak_rss_kib().unwrap_or(0);
        eprintln!("peak_kib={peak}");
    }
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: writing the rows: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Caps this process's writable memory and CPU time: past them an allocation fails (the process
/// aborts) or the kernel stops it.
fn limit_self(memory_mib: u64, cpu_secs: u64) -> std::io::Result<()> {
    use rustix::process::{setrlimit, Resource, Rlimit};
    let memory = Some(memory_mib * 1024 * 1024);
    // The data limit (private writable memory), not the address space, which counts reservations
    // never used. The server starts this process with the allocator told not to commit a large
    // arena up front (`MIMALLOC_ARENA_EAGER_COMMIT=0`, `MIMALLOC_ARENA_RESERVE`): committed
    // eagerly, a 1 GiB arena alone used up the limit and small allocations failed now and then.
    setrlimit(
        Resource::Data,
        Rlimit {
            current: memory,
            maximum: memory,
        },
    )?;
    // The soft limit sends SIGXCPU, the hard one a second later SIGKILL.
    setrlimit(
        Resource::Cpu,
        Rlimit {
            current: Some(cpu_secs),
            maximum: Some(cpu_secs + 1),
        },
    )?;
    Ok(())
}

fn read(bytes: &[u8], max_rows: u64) -> ReadOutcome {
    let mut book = match Xlsx::new(Cursor::new(bytes)) {
        Ok(book) => book,
        Err(calamine::XlsxError::Zip(_)) => return ReadOutcome::Problem(FileProblem::NotXlsx),
        Err(_) => return ReadOutcome::Problem(FileProblem::Unreadable),
    };
    let Some(first) = book.sheet_names().first().cloned() else {
        return ReadOutcome::Problem(FileProblem::Empty);
    };
    let mut cells = match book.worksheet_cells_reader(&first) {
        Ok(cells) => cells,
        Err(_) => return ReadOutcome::Problem(FileProblem::Unreadable),
    };
    let mut rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(_) => return ReadOutcome::Problem(FileProblem::Unreadable),
        };
        let Some(text) = text_of(cell.get_value()) else {
            continue;
        };
        let (row, column) = cell.get_position();
        if u64::from(column) >= READ_COLUMNS as u64 {
            return ReadOutcome::Problem(FileProblem::CellOutside {
                row: u64::from(row) + 1,
                column: u64::from(column) + 1,
            });
        }
        // Row 0 is the header.
        if u64::from(row) > max_rows {
            return ReadOutcome::Problem(FileProblem::TooManyRows { max_rows });
        }
        let cells = rows
            .entry(row)
            .or_insert_with(|| vec![String::new(); READ_COLUMNS]);
        cells[column as usize] = text;
    }
    ReadOutcome::Rows(
        rows.into_iter()
            .map(|(row, cells)| RawRow {
                row: u64::from(row) + 1,
                cells,
            })
            .collect(),
    )
}

/// A cell's value as text, cut to [`CELL_CHARS`]; none for an empty cell.
fn text_of(value: &DataRef<'_>) -> Option<String> {
    let text = match value {
        DataRef::Empty => return None,
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        // A number typed into a text column (an amount, a reference number): its shortest
        // decimal form, `12.5` or `341200004998`.
        DataRef::Float(f) => format!("{f}"),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::DateTime(d) => format!("{}", d.as_f64()),
        DataRef::Error(e) => format!("#{e}"),
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(CELL_CHARS).collect())
}
