//! `genrec-bench`: the speed figures the issues ask for (constrained decoding,
//! training, embedding, k-means), each written so that its Python peer
//! (`benches/*.py`, run beside it by `scripts/bench.sh`) measures the same
//! work on the same inputs. A binary of its own, so that the `genrec` command
//! ships no benchmarks and `cargo test --all-targets` runs none; carry it to a
//! GPU machine like `genrec`. It uses the library's code (the trainer's
//! optimizer and batches, the encoder, the index builder), not copies.
use clap::Parser;

mod bench;
mod clock;
mod inputs;
#[path = "../../cli/progress.rs"]
mod progress;
mod train;

fn main() {
    genrec::runtime::tune_allocator();
    let args = bench::Args::parse();
    if let Err(e) = bench::run(args) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
