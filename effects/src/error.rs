//! One error enum per boundary of the executor.

use machine::SendClass;

/// A failed L1 read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum L1Error {
    /// The node could not be reached.
    #[error("transport: {0}")]
    Transport(String),
    /// The call timed out.
    #[error("timeout after {ms} ms")]
    Timeout {
        /// How long the call waited.
        ms: u64,
    },
    /// The node answered with a JSON-RPC error.
    #[error("rpc error {code}: {message}")]
    Rpc {
        /// The JSON-RPC error code.
        code: i64,
        /// Its message.
        message: String,
    },
    /// The node's answer is not what the call asks for: not JSON, an empty (`null`)
    /// result where a value is due, a value of the wrong shape.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The answer is too large to be logged as one event (issue 18, item 10): refused
    /// whole, nothing of it is stepped or logged.
    #[error(
        "oversized answer: block {block}'s inbox inputs take {bytes} bytes, over the {limit} one answer may carry (the log's record limit); the read counts as failed"
    )]
    Oversized {
        /// The block whose inputs are too large.
        block: u64,
        /// Their size, as an `l1` event would carry them.
        bytes: u64,
        /// The most one answer may carry.
        limit: u64,
    },
}

impl L1Error {
    /// The failure's class, for logs and metrics: `transport`, `timeout`, `node_error`,
    /// `malformed` or `oversized`.
    #[must_use]
    pub fn class(&self) -> &'static str {
        match self {
            L1Error::Transport(_) => "transport",
            L1Error::Timeout { .. } => "timeout",
            L1Error::Rpc { .. } => "node_error",
            L1Error::Malformed(_) => "malformed",
            L1Error::Oversized { .. } => "oversized",
        }
    }
}

/// A failed send.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The node reports another chain; nothing was sent.
    #[error("wrong chain: node reports chain id {found}")]
    WrongChain {
        /// The node's chain id.
        found: u64,
    },
    /// The node answered with a JSON-RPC error: a refusal, classified (docs/protocol.md §11.1).
    #[error("{}: {message} (code {code})", class.name())]
    Node {
        /// What the refusal means.
        class: SendClass,
        /// The JSON-RPC error code.
        code: i64,
        /// The node's message, as sent.
        message: String,
    },
    /// No answer from the node: unreachable, timed out, or not a JSON-RPC error.
    #[error("transport: {0}")]
    Transport(String),
}

impl SendError {
    /// The class `send_failed` reports; `None` for a wrong chain, which is reported as
    /// the node's chain id instead.
    #[must_use]
    pub fn class(&self) -> Option<SendClass> {
        match self {
            SendError::WrongChain { .. } => None,
            SendError::Node { class, .. } => Some(*class),
            SendError::Transport(_) => Some(SendClass::Transport),
        }
    }
}

/// A failed local write or read of the store, classified so the caller can say what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("store {}: {message}{}", kind.name(), kind.advice())]
pub struct StoreError {
    /// What kind of failure.
    pub kind: StoreErrorKind,
    /// The store's own message.
    pub message: String,
}

/// What kind of store failure: decides whether waiting can help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// Another connection holds the lock longer than the busy timeout.
    Busy,
    /// The file, its directory or its file system cannot be written.
    ReadOnly,
    /// The file is not a database or is damaged.
    Corrupt,
    /// The disk is full.
    Full,
    /// Anything else (a schema from a newer build, an I/O error).
    Other,
}

impl StoreErrorKind {
    /// A short name for messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            StoreErrorKind::Busy => "busy",
            StoreErrorKind::ReadOnly => "read-only",
            StoreErrorKind::Corrupt => "corrupt",
            StoreErrorKind::Full => "full",
            StoreErrorKind::Other => "error",
        }
    }

    /// What an operator should do, as a clause appended to the message.
    #[must_use]
    pub fn advice(self) -> &'static str {
        match self {
            StoreErrorKind::Busy => " (another process holds the database lock; retried later)",
            StoreErrorKind::ReadOnly => {
                " (the database, its directory or its file system is not writable: fix permissions or the mount)"
            }
            StoreErrorKind::Corrupt => {
                " (the projection is damaged: move it aside; the next boot rebuilds it from the log)"
            }
            StoreErrorKind::Full => " (the disk is full: free space; nothing was lost, the log is the truth)",
            StoreErrorKind::Other => "",
        }
    }
}

impl StoreError {
    /// An error of kind `Other`.
    #[must_use]
    pub fn other(message: impl Into<String>) -> Self {
        StoreError { kind: StoreErrorKind::Other, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_refusal_shows_its_class_and_the_raw_message() {
        let error = SendError::Node {
            class: SendClass::Underpriced,
            code: -32000,
            message: "replacement transaction underpriced".to_owned(),
        };
        assert_eq!(error.to_string(), "underpriced: replacement transaction underpriced (code -32000)");
        assert_eq!(error.class(), Some(SendClass::Underpriced));
        assert_eq!(SendError::Transport("connection refused".to_owned()).class(), Some(SendClass::Transport));
        assert_eq!(SendError::WrongChain { found: 1 }.class(), None);
    }
}
