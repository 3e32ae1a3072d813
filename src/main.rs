//! The `genrec` command line: one binary whose subcommands run the
//! pipeline (prepare → embed → index → train → evaluate / recommend).
use clap::Parser;

mod cli;

fn main() {
    genrec::runtime::tune_allocator();
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        genrec::tell!("error: {e:#}");
        std::process::exit(1);
    }
}
