//! driftlock audits Terraform/OpenTofu state against what really exists, and closes a gate
//! when they disagree.
//!
//! Layers flow one way: [`ingest`] (formats → [`model`]) → [`checks`] (model → [`finding`]s)
//! → [`report`] (findings → human, JSON). Inputs that cannot be audited are
//! [`error::InputError`]s and close the gate with exit status 2.

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod code;
pub mod collect;
pub mod commands;
pub mod config;
pub mod diff;
pub mod error;
pub mod finding;
pub mod governance;
pub mod ingest;
pub mod locate;
pub mod model;
pub mod presets;
pub mod remote;
pub mod report;
pub mod scan;
pub mod source;
pub mod tools;
