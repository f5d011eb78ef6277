//! The `envc` binary: parses arguments and hands them to the library.

use clap::Parser;
use envc::cli;

/// envc allocates many small strings and trees while rendering; with mimalloc (built without
/// transparent huge pages) `envc check` of the root example took 20 ms where glibc's took 24.5.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    envc::start_pool();
    let cli = cli::Cli::parse();
    std::process::exit(cli::run(cli));
}
