//! Small helpers shared by Pylon's library crates, one job each (as cargo-util is to
//! cargo). Nothing here knows about caps, profiles or the CLI.

pub mod date;
pub mod digest;
pub mod fs;
pub mod ledger;
pub mod lockfile;
pub mod log;
