//! One error enum per boundary of the executor.

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
    /// A transaction at this nonce is pending with fees the new one does not out-bid by 10%.
    #[error("replacement_underpriced")]
    ReplacementUnderpriced,
    /// The nonce is already used on chain.
    #[error("nonce_too_low")]
    NonceTooLow,
    /// The node could not be reached.
    #[error("transport: {0}")]
    Transport(String),
}

/// A failed local write.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);
