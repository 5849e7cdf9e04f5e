//! The integration tests, one binary (polars links once): each module
//! drives the release `slt` binary or the library end to end, and is named
//! for what it covers.

mod charts;
mod cli;
mod common;
mod entitlements;
mod explain;
mod fuzz;
mod hostile;
mod outputs;
mod review;
mod safety;
mod shards;
mod vendors;
