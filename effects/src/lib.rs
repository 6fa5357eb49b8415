//! The executor side of seqrec: the run loop that turns the core's [`machine::Effect`]s
//! into I/O through small port traits and their outcomes back into
//! [`machine::Event`]s, the deterministic simulated L1 that implements those ports, and
//! the one mapping from the core's exit status to a process exit number.
//!
//! The Ethereum JSON-RPC adapter and the SQLite projection arrive with their issue (see
//! README "Status"); they implement the same ports.

mod error;
pub mod eth;
mod memory_log;
mod ports;
mod run_loop;
pub mod sim;
pub mod sqlite;
mod writer_lock;

pub use error::{L1Error, SendError, StoreError, StoreErrorKind};
pub use memory_log::{Discard, MemoryLog, Replayer};
pub use ports::{
    ChainIdentity, Clock, CrashPoint, Environment, Hooks, Inputs, L1, Landings, LogSink, SafeSync, Signed, Store, Wake,
    WalletCounts,
};
pub use run_loop::{Executor, Stop};
pub use writer_lock::{LOCK_GRACE, try_lock_exclusive};

use machine::ExitCode;

/// The process exit number for a core exit status (docs/protocol.md §10), the one place this
/// mapping lives: 0 admitted shutdown, 10 recovery required, 20 retry, 30 refuse,
/// 78 config invalid. An orchestrator restarts on 10 and 20 and stops on 30 and 78.
#[must_use]
pub fn exit_status(code: ExitCode) -> u8 {
    code.number()
}

/// Whether an orchestrator should restart the process after this exit.
#[must_use]
pub fn restart_after(code: ExitCode) -> bool {
    match code {
        ExitCode::RecoveryRequired | ExitCode::Retry => true,
        ExitCode::AdmittedShutdown | ExitCode::Refuse | ExitCode::ConfigInvalid => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_numbers_and_restart_policy_match_interface_md() {
        let table = [
            (ExitCode::AdmittedShutdown, 0, false),
            (ExitCode::RecoveryRequired, 10, true),
            (ExitCode::Retry, 20, true),
            (ExitCode::Refuse, 30, false),
            (ExitCode::ConfigInvalid, 78, false),
        ];
        for (code, number, restart) in table {
            assert_eq!((exit_status(code), restart_after(code)), (number, restart), "{code:?}");
        }
    }
}
