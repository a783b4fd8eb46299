//! `clew-tracegen`: parse flags, run the load, print the JSON summary.

use std::process::ExitCode;

use clap::Parser;
use clew_tracegen::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = cli.to_config();
    match clew_tracegen::run(&config) {
        Ok(summary) => {
            match serde_json::to_string(&summary) {
                Ok(line) => println!("{line}"),
                Err(e) => eprintln!("tracegen: cannot print summary: {e}"),
            }
            // Nothing delivered at all is a failed run; partial errors are data.
            if summary.spans_sent == 0 && summary.errors > 0 {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("tracegen: {e}");
            ExitCode::FAILURE
        }
    }
}
