//! One module per subcommand, each with its `run`: parse, call the
//! library, print. Commands never import each other.

pub mod calendar;
pub mod generate;
pub mod query;
pub mod report;
pub mod review;
