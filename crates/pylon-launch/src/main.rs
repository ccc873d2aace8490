//! `pylon-launch`: parse, run, print, exit. See `pylon_launch::USAGE`.

use std::io::Write;
use std::process::ExitCode;

use pylon_launch::{format_duration, Event, Outcome, EXIT_LAUNCH_ERROR, EXIT_TIMEOUT};

fn main() -> ExitCode {
    let code = match launch() {
        Ok(outcome) => {
            match &outcome {
                Outcome::Exited(_) => {}
                Outcome::Trapped { report } => eprintln!("pylon-launch: guest trapped: {report}"),
                Outcome::TimedOut { after } => {
                    eprintln!("pylon-launch: timed out after {}", format_duration(*after))
                }
            }
            outcome.exit_code()
        }
        Err(err) => {
            eprintln!("pylon-launch: error: {err:#}");
            EXIT_LAUNCH_ERROR
        }
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // Guest codes are 0..=255 (wasi exit-with-code takes a u8); anything else is clamped.
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn launch() -> anyhow::Result<Outcome> {
    let opts = pylon_launch::parse_args(std::env::args_os().skip(1).collect())?;
    if opts.show_help {
        print!("{}", pylon_launch::USAGE);
        return Ok(Outcome::Exited(0));
    }
    let verbose = opts.verbose;
    // Notes always, the rest with --verbose.
    let mut report = |event: &Event| {
        if verbose || event.is_note() || matches!(event, Event::LinearMemory { .. }) {
            eprintln!("pylon-launch: {event}");
        }
    };
    // A guest blocked in a host call past --timeout: end the process here.
    let on_stuck: pylon_launch::OnStuck = Box::new(|after| {
        let _ = std::io::stdout().flush();
        eprintln!("pylon-launch: timed out after {}", format_duration(after));
        std::process::exit(EXIT_TIMEOUT);
    });
    Ok(pylon_launch::run(&opts, &mut report, Some(on_stuck))?)
}
