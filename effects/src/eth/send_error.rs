//! What a node's refusal of `eth_sendRawTransaction` means (docs/protocol.md §11.1): the JSON-RPC
//! error object is classified into a [`SendClass`], by its code where a client's code is
//! distinctive and otherwise by the client's wording, which the clients below share only
//! in part. A refusal whose wording is unknown is `rejected`; only a missing error
//! object (no answer, a timeout, an HTTP failure) is `transport`.

use alloy::transports::TransportError;
use machine::SendClass;

use crate::error::SendError;

/// Nethermind's `TransactionRejected`: the message is then an `AcceptTxResult`, in old
/// releases its bare name (`OldNonce, Current nonce: 5, ...`).
const NETHERMIND_REJECTED: i64 = -32010;

/// Besu's code for a gas price below the node's minimum or the current base fee; no other
/// client answers a send with it.
const BESU_GAS_PRICE_TOO_LOW: i64 = -32009;

/// Classifies a node's JSON-RPC error answer to a send: `code` and `message` as the node
/// sent them, `data` the raw JSON of its optional `data` member. Never `transport`: the
/// node answered.
#[must_use]
pub fn classify(code: i64, message: &str, data: Option<&str>) -> SendClass {
    if let Some(class) = by_code(code, message) {
        return class;
    }
    let message = message.to_ascii_lowercase();
    let data = data.map(str::to_ascii_lowercase);
    by_phrase(&message).or_else(|| data.as_deref().and_then(by_phrase)).unwrap_or(SendClass::Rejected)
}

/// The class a send error carries, from alloy's error: the node's error object if there
/// is one, else a transport failure.
pub(crate) fn from_transport(error: &TransportError) -> SendError {
    match error.as_error_resp() {
        Some(payload) => SendError::Node {
            class: classify(payload.code, &payload.message, payload.data.as_ref().map(|raw| raw.get())),
            code: payload.code,
            message: payload.message.to_string(),
        },
        None => SendError::Transport(error.to_string()),
    }
}

fn by_code(code: i64, message: &str) -> Option<SendClass> {
    match code {
        NETHERMIND_REJECTED => nethermind_result(message),
        BESU_GAS_PRICE_TOO_LOW => Some(SendClass::Underpriced),
        _ => None,
    }
}

/// Older Nethermind releases (Nethermind.TxPool `AcceptTxResult`): the result's name,
/// then `, ` and a detail. Later releases send geth's phrases, which [`PHRASES`] knows.
fn nethermind_result(message: &str) -> Option<SendClass> {
    let name = message.split(',').next().unwrap_or_default().trim();
    match name {
        "AlreadyKnown" => Some(SendClass::AlreadyKnown),
        "FeeTooLow" | "FeeTooLowToCompete" | "ReplacementNotAllowed" | "OwnNonceAlreadyUsed" => {
            Some(SendClass::Underpriced)
        }
        "OldNonce" => Some(SendClass::NonceTooLow),
        "InsufficientFunds" => Some(SendClass::InsufficientFunds),
        "NonceGap"
        | "NonceTooFarInFuture"
        | "GasLimitExceeded"
        | "Int256Overflow"
        | "Invalid"
        | "FailedToResolveSender"
        | "SenderIsContract"
        | "Filtered"
        | "MaxTxSizeExceeded"
        | "Syncing" => Some(SendClass::Rejected),
        _ => None,
    }
}

/// Where a phrase must stand in the lower-cased message.
#[derive(Clone, Copy)]
enum At {
    /// Anywhere.
    In(&'static str),
    /// At the start ("known transaction" would otherwise match "unknown transaction type").
    Start(&'static str),
}

/// Lower-cased phrases in order, first match wins; guards come before the phrases they
/// contain.
const PHRASES: &[(At, SendClass)] = &[
    // Guards: geth's EIP-7702 authorization nonce is not ours (core/txpool/errors.go
    // ErrAuthorityNonceTooLow).
    (At::In("authority nonce too low"), SendClass::Rejected),
    // Identical transaction pending already.
    // geth txpool ErrAlreadyKnown, reth RpcPoolError::AlreadyKnown, Erigon DiscardReason
    // AlreadyKnown ("ALREADY_EXISTS: already known"), Nethermind TxPoolErrorMessages.AlreadyKnown.
    (At::In("already known"), SendClass::AlreadyKnown),
    // anvil PoolError::AlreadyImported as sent ("transaction already imported").
    (At::In("already imported"), SendClass::AlreadyKnown),
    // Besu RpcErrorType.ETH_SEND_TX_ALREADY_KNOWN, EDR MemPoolAddTransactionError::
    // TransactionAlreadyExists ("Known transaction: 0x…").
    (At::Start("known transaction"), SendClass::AlreadyKnown),
    // Erigon DiscardReason DuplicateHash ("INTERNAL_ERROR: existing tx(n) with same hash").
    (At::In("with same hash"), SendClass::AlreadyKnown),
    // Fees: a replacement without the bump, below the pool's minimum, below the base fee.
    // geth ErrReplaceUnderpriced / ErrUnderpriced, reth, Erigon (UnderPriced,
    // ReplaceUnderpriced), Nethermind, anvil, Besu ETH_SEND_TX_REPLACEMENT_UNDERPRICED,
    // EDR ReplacementMaxFeePerGasTooLow ("Replacement transaction underpriced. A …").
    (At::In("underpriced"), SendClass::Underpriced),
    // reth/anvil pool errors before they took geth's phrase.
    (At::In("insufficient gas price to replace"), SendClass::Underpriced),
    // Erigon DiscardReason FeeTooLow and NotReplaced.
    (At::In("fee too low"), SendClass::Underpriced),
    (At::In("could not replace existing"), SendClass::Underpriced),
    // geth core ErrFeeCapTooLow, reth RpcInvalidTransactionError::FeeCapTooLow, anvil
    // InvalidTransactionError::FeeCapTooLow.
    (At::In("max fee per gas less than block base fee"), SendClass::Underpriced),
    // EDR ProviderError::AutoMineMaxFeeTooLow / AutoMineGasPriceTooLow ("Transaction
    // maxFeePerGas (1) is too low for the next block, which has a baseFeePerGas of 7").
    (At::In("too low for the next block"), SendClass::Underpriced),
    // EDR AutoMinePriorityFeeTooLow ("…, which is below the minimum of …"), Besu
    // GAS_PRICE_TOO_LOW / GAS_PRICE_BELOW_CURRENT_BASE_FEE ("Gas price below …"), reth
    // PriorityFeeBelowMinimum ("transaction priority fee below minimum required …").
    (At::In("below the minimum of"), SendClass::Underpriced),
    (At::In("gas price below"), SendClass::Underpriced),
    (At::In("priority fee below minimum"), SendClass::Underpriced),
    (At::In("gas price too low"), SendClass::Underpriced),
    // Nonce used already: geth core ErrNonceTooLow ("nonce too low: address …"), reth
    // ("nonce too low: next nonce 7, tx nonce 5"), anvil, Erigon ("INTERNAL_ERROR: nonce too
    // low"), Besu NONCE_TOO_LOW ("Nonce too low"), EDR AutoMineNonceTooLow ("Nonce too
    // low. Expected nonce to be 2 but got 1. …") and its pool's NonceTooLow ("Transaction
    // nonce too low. Expected nonce to be at least 2 but got 1.").
    (At::In("nonce too low"), SendClass::NonceTooLow),
    // OpenEthereum ("Transaction nonce is too low. Try incrementing the nonce.").
    (At::In("nonce is too low"), SendClass::NonceTooLow),
    // Funds: geth ErrInsufficientFunds ("insufficient funds for gas * price + value: …"),
    // reth, anvil, Erigon ("insufficient funds"), Nethermind.
    (At::In("insufficient funds"), SendClass::InsufficientFunds),
    // Besu TRANSACTION_UPFRONT_COST_EXCEEDS_BALANCE ("Upfront cost exceeds account balance").
    (At::In("upfront cost exceeds"), SendClass::InsufficientFunds),
    // EDR MemPoolAddTransactionError::InsufficientFunds ("Sender doesn't have enough funds
    // to send tx. The max upfront cost is: …").
    (At::In("enough funds"), SendClass::InsufficientFunds),
    // Pool limits: geth/reth ErrTxPoolOverflow ("txpool is full"), Besu ("Transaction pool
    // is full"), Erigon PendingPoolOverflow and its kin ("pending sub-pool is full").
    (At::In("pool is full"), SendClass::PoolFull),
    // geth ErrAccountLimitExceeded, Erigon DiscardReason Spammer, geth legacypool
    // ErrInflightTxLimitReached, and the wording of pools that limit pending per sender.
    (At::In("account limit exceeded"), SendClass::PoolFull),
    (At::In("spammer"), SendClass::PoolFull),
    (At::In("in-flight transaction limit"), SendClass::PoolFull),
    (At::In("too many pending"), SendClass::PoolFull),
    // Rejections kept explicit so no later phrase ever claims them: geth ErrGasLimit and
    // ErrIntrinsicGas, ErrOversizedData, ErrInvalidSender; Besu EXCEEDS_BLOCK_GAS_LIMIT,
    // INTRINSIC_GAS_EXCEEDS_LIMIT, WRONG_CHAIN_ID; EDR ExceedsBlockGasLimit ("Transaction
    // gas limit is 99 and exceeds block gas limit of 30"); chain ids from Erigon ("invalid
    // chain id, expected: …"), reth ("invalid chain ID"), anvil ("invalid chain id for
    // signer"), EDR ("Invalid chainId 5 provided, …").
    (At::In("exceeds block gas limit"), SendClass::Rejected),
    (At::In("intrinsic gas"), SendClass::Rejected),
    (At::In("oversized data"), SendClass::Rejected),
    (At::In("invalid sender"), SendClass::Rejected),
    (At::In("invalid chain"), SendClass::Rejected),
    (At::In("wrong chainid"), SendClass::Rejected),
    (At::In("nonce too high"), SendClass::Rejected),
];

fn by_phrase(lower: &str) -> Option<SendClass> {
    PHRASES.iter().find_map(|&(at, class)| {
        let found = match at {
            At::In(phrase) => lower.contains(phrase),
            At::Start(phrase) => lower.starts_with(phrase),
        };
        found.then_some(class)
    })
}

#[cfg(test)]
mod tests;
