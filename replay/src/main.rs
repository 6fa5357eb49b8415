//! The `seqrec` binary: parses arguments, runs the command, and decides the exit code
//! (the only place that does): 0 ok, 1 verification failed, 2 bad input.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use replay::cli::{Args, Outcome, execute, redact_keys};

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        // clap's messages repeat the value they refuse: a key given where a number or a
        // path is expected must not be printed (issue 18, item 8).
        Err(error) if error.use_stderr() => {
            let _ = std::io::stderr().write_all(redact_keys(&error.render().to_string()).as_bytes());
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
        Err(error) => error.exit(),
    };
    let (code, text, to_stderr) = match execute(args) {
        Ok(Outcome::Done(text)) => (ExitCode::SUCCESS, text, false),
        Ok(Outcome::Failed(report)) => (ExitCode::from(1), report, false),
        Ok(Outcome::Exit { status, text }) => (ExitCode::from(status), text, true),
        Err(error) if error.is_broken_pipe() => return ExitCode::SUCCESS,
        Err(error) => (ExitCode::from(2), format!("seqrec: {error}\n"), true),
    };
    // A closed pipe (`seqrec trace … | head`) is not an error: stop quietly.
    let _ = if to_stderr {
        std::io::stderr().write_all(text.as_bytes())
    } else {
        std::io::stdout().write_all(text.as_bytes())
    };
    code
}
