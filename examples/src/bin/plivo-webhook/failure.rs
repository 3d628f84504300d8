//! How a command ends when it does not succeed: a one-line message and an exit code.

use std::process::ExitCode;

/// A command's failure: either a negative answer (exit 1) or bad input (exit 2).
#[derive(Debug)]
pub(crate) enum Failure {
    /// The check ran and said no (invalid signature, unexpected HTTP status, failing
    /// vector). The command has already printed why; exit 1.
    Negative,
    /// The input could not be used (a malformed argument, an unreadable file): exit 2
    /// after printing the message on stderr.
    Usage(String),
}

impl Failure {
    /// A bad-input failure with this message.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(message.into())
    }

    /// Prints the message, if any, and gives the exit code.
    pub(crate) fn report(self) -> ExitCode {
        match self {
            Failure::Negative => ExitCode::from(1),
            Failure::Usage(message) => {
                eprintln!("plivo-webhook: {message}");
                ExitCode::from(2)
            }
        }
    }
}

/// Reads a file given on the command line, naming it in the error.
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
}
