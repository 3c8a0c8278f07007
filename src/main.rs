//! The `driftlock` binary: everything lives in the library.

/// mimalloc: a scan allocates millions of small values on every worker thread; glibc's per-thread
/// arenas kept about 1.5 GiB of freed memory on top of the live heap at scale 1.0
/// (docs/benchmarks.md, "Where the memory goes"). Built without transparent huge pages
/// (`no_thp`): a steadier and lower peak (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(driftlock::cli::main());
}
