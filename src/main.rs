//! The `driftlock` binary: everything lives in the library.

fn main() {
    std::process::exit(driftlock::cli::main());
}
