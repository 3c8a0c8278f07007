//! Developer tasks for driftlock: `cargo xtask <task>`.
fn main() {
    eprintln!("usage: cargo xtask <fixtures|bench|deny>");
    std::process::exit(2);
}
