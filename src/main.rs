//! The `envc` binary: parses arguments and hands them to the library.

mod cli;

use clap::Parser;

/// envc allocates many small strings and trees while rendering; mimalloc does that work in
/// about half the time of the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = cli::Cli::parse();
    std::process::exit(cli::run(cli));
}
