//! `parley restore NAME`: a backup put in place of the database (the current file moved aside).

use parley_core::error::Result;

/// `parley restore NAME`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The backup's name, as `parley backups` lists it.
    name: String,
}

pub fn run(args: Args) -> Result<i32> {
    let name = args.name.as_str();
    let moved = parley_core::api::restore_backup(name)?;
    errln!(
        "parley: restored {name}; the previous database was moved to {}",
        moved.display()
    );
    Ok(0)
}
