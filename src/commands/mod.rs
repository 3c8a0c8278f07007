//! Subcommands that are not the scan pipeline: each renders what it reports to standard output
//! and returns the exit status.

pub mod catalog;
pub mod collect;
pub mod report;
