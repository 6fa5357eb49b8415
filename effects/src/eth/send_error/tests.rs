//! The answers of each client to a refused `eth_sendRawTransaction`, as their sources
//! write them (numbers and addresses filled in), and the class each must get.

use machine::SendClass::{self, AlreadyKnown, InsufficientFunds, NonceTooLow, PoolFull, Rejected, Underpriced};

use super::classify;

/// (client, code, message, class)
type Row = (&'static str, i64, &'static str, SendClass);

const GETH: &[Row] = &[
    // core/txpool/errors.go, legacypool, core/error.go; every send error is -32000.
    ("geth", -32000, "already known", AlreadyKnown),
    ("geth", -32000, "replacement transaction underpriced", Underpriced),
    ("geth", -32000, "transaction underpriced", Underpriced),
    ("geth", -32000, "transaction gas price below minimum: gas tip cap 1, minimum needed 1000000000", Underpriced),
    (
        "geth",
        -32000,
        "max fee per gas less than block base fee: address 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266, maxFeePerGas: 1, baseFee: 7",
        Underpriced,
    ),
    ("geth", -32000, "nonce too low: address 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266, tx: 0 state: 1", NonceTooLow),
    (
        "geth",
        -32000,
        "insufficient funds for gas * price + value: address 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 have 0 want 21000",
        InsufficientFunds,
    ),
    ("geth", -32000, "txpool is full", PoolFull),
    ("geth", -32000, "account limit exceeded", PoolFull),
    ("geth", -32000, "in-flight transaction limit reached for delegated accounts", PoolFull),
    ("geth", -32000, "exceeds block gas limit", Rejected),
    ("geth", -32000, "intrinsic gas too low: gas 21000, minimum needed 21160", Rejected),
    ("geth", -32000, "oversized data", Rejected),
    ("geth", -32000, "invalid sender", Rejected),
    ("geth", -32000, "nonce too high", Rejected),
    ("geth", -32000, "authority nonce too low", Rejected),
    ("geth", -32000, "tx fee (1.10 ether) exceeds the configured cap (1.00 ether)", Rejected),
];

const RETH: &[Row] = &[
    // rpc-eth-types error/mod.rs RpcPoolError and RpcInvalidTransactionError, with the
    // codes its ErrorObject conversion gives (-32000 InvalidInput, -32003 TransactionRejected).
    ("reth", -32000, "already known", AlreadyKnown),
    ("reth", -32000, "replacement transaction underpriced", Underpriced),
    ("reth", -32000, "transaction underpriced", Underpriced),
    ("reth", -32003, "transaction priority fee below minimum required priority fee 1000000", Underpriced),
    ("reth", -32000, "max fee per gas less than block base fee", Underpriced),
    ("reth", -32000, "nonce too low: next nonce 7, tx nonce 5", NonceTooLow),
    ("reth", -32003, "insufficient funds for gas * price + value: have 0 want 21000", InsufficientFunds),
    ("reth", -32003, "txpool is full", PoolFull),
    ("reth", -32000, "exceeds block gas limit", Rejected),
    ("reth", -32000, "exceeds max transaction gas limit", Rejected),
    ("reth", -32000, "intrinsic gas too low", Rejected),
    ("reth", -32000, "oversized data: transaction size 131200, limit 131072", Rejected),
    ("reth", -32000, "invalid chain ID", Rejected),
];

const NETHERMIND: &[Row] = &[
    // Old releases: AcceptTxResult names, "{name}, {detail}", code -32010.
    ("nethermind-old", -32010, "AlreadyKnown", AlreadyKnown),
    ("nethermind-old", -32010, "OldNonce, Current nonce: 5, nonce of rejected tx: 3", NonceTooLow),
    ("nethermind-old", -32010, "FeeTooLow", Underpriced),
    ("nethermind-old", -32010, "FeeTooLowToCompete", Underpriced),
    ("nethermind-old", -32010, "ReplacementNotAllowed", Underpriced),
    ("nethermind-old", -32010, "InsufficientFunds, Account balance: 0, cumulative cost: 21000", InsufficientFunds),
    ("nethermind-old", -32010, "NonceGap", Rejected),
    ("nethermind-old", -32010, "GasLimitExceeded", Rejected),
    // Newer releases: TxPoolErrorMessages, geth's phrases where geth has one.
    ("nethermind", -32010, "already known", AlreadyKnown),
    ("nethermind", -32010, "transaction underpriced", Underpriced),
    ("nethermind", -32010, "replacement transaction underpriced", Underpriced),
    ("nethermind", -32010, "nonce too low", NonceTooLow),
    ("nethermind", -32010, "insufficient funds for gas * price + value", InsufficientFunds),
    ("nethermind", -32010, "nonce too high", Rejected),
    ("nethermind", -32010, "gas limit reached", Rejected),
    ("nethermind", -32010, "node is syncing", Rejected),
];

const ERIGON: &[Row] = &[
    // jsonrpc send_transaction.go: "{ImportResult}: {DiscardReason}" (txpoolcfg DiscardReason).
    ("erigon", -32000, "ALREADY_EXISTS: already known", AlreadyKnown),
    ("erigon", -32000, "INTERNAL_ERROR: existing tx with same hash", AlreadyKnown),
    ("erigon", -32000, "INTERNAL_ERROR: existing txn with same hash", AlreadyKnown),
    ("erigon", -32000, "FEE_TOO_LOW: replacement transaction underpriced", Underpriced),
    ("erigon", -32000, "FEE_TOO_LOW: underpriced", Underpriced),
    ("erigon", -32000, "FEE_TOO_LOW: fee too low", Underpriced),
    ("erigon", -32000, "INTERNAL_ERROR: could not replace existing tx", Underpriced),
    ("erigon", -32000, "INTERNAL_ERROR: nonce too low", NonceTooLow),
    ("erigon", -32000, "INTERNAL_ERROR: insufficient funds", InsufficientFunds),
    ("erigon", -32000, "INTERNAL_ERROR: pending sub-pool is full", PoolFull),
    ("erigon", -32000, "INTERNAL_ERROR: spammer", PoolFull),
    ("erigon", -32000, "INVALID: oversized data", Rejected),
    ("erigon", -32000, "INVALID: invalid sender", Rejected),
    ("erigon", -32000, "invalid chain id, expected: 1 got: 5", Rejected),
];

const BESU: &[Row] = &[
    // RpcErrorType (formerly JsonRpcError): code and message per enum constant.
    ("besu", -32000, "Known transaction", AlreadyKnown),
    ("besu", -32000, "Replacement transaction underpriced", Underpriced),
    ("besu", -32009, "Gas price below configured minimum gas price", Underpriced),
    ("besu", -32009, "Gas price below current base fee", Underpriced),
    ("besu", -32001, "Nonce too low", NonceTooLow),
    ("besu", -32004, "Upfront cost exceeds account balance", InsufficientFunds),
    ("besu", -32000, "Transaction pool is full", PoolFull),
    ("besu", -32005, "Transaction gas limit exceeds block gas limit", Rejected),
    ("besu", -32003, "Intrinsic gas exceeds gas limit", Rejected),
    ("besu", -32002, "Invalid signature", Rejected),
    ("besu", -32000, "Wrong chainId", Rejected),
    ("besu", -32006, "Nonce too high", Rejected),
    ("besu", -32000, "Transaction nonce is too distant from current sender nonce", Rejected),
];

const EDR: &[Row] = &[
    // edr_evm mem_pool MemPoolAddTransactionError and edr_provider ProviderError.
    (
        "edr",
        -32000,
        "Known transaction: 0x4e3a3754410177e6937ef1f84bba68ea139e8d1a2258c5f85db9f1cd715a1bdd",
        AlreadyKnown,
    ),
    (
        "edr",
        -32000,
        "Replacement transaction underpriced. A gasPrice/maxFeePerGas of at least 22000000000 is necessary to replace the existing transaction with nonce 0.",
        Underpriced,
    ),
    (
        "edr",
        -32000,
        "Replacement transaction underpriced. A gasPrice/maxPriorityFeePerGas of at least 1100000000 is necessary to replace the existing transaction with nonce 0.",
        Underpriced,
    ),
    (
        "edr",
        -32000,
        "Transaction maxFeePerGas (1) is too low for the next block, which has a baseFeePerGas of 7",
        Underpriced,
    ),
    (
        "edr",
        -32000,
        "Transaction gasPrice (1) is too low for the next block, which has a baseFeePerGas of 7",
        Underpriced,
    ),
    ("edr", -32000, "Transaction gas price is 1, which is below the minimum of 2", Underpriced),
    (
        "edr",
        -32000,
        "Nonce too low. Expected nonce to be 2 but got 1. Note that transactions can't be queued when automining.",
        NonceTooLow,
    ),
    ("edr", -32000, "Transaction nonce too low. Expected nonce to be at least 2 but got 1.", NonceTooLow),
    (
        "edr",
        -32000,
        "Sender doesn't have enough funds to send tx. The max upfront cost is: 21000000000000 and the sender's balance is: 0.",
        InsufficientFunds,
    ),
    ("edr", -32000, "Transaction gas limit is 40000000 and exceeds block gas limit of 30000000", Rejected),
    (
        "edr",
        -32000,
        "Nonce too high. Expected nonce to be 1 but got 3. Note that transactions can't be queued when automining.",
        Rejected,
    ),
    ("edr", -32602, "Invalid chainId 5 provided, expected $31337 instead.", Rejected),
];

const ANVIL: &[Row] = &[
    // anvil eth/error.rs: PoolError and InvalidTransactionError as to_rpc_result sends
    // them (-32003 transaction_rejected unless noted).
    ("anvil", -32003, "transaction already imported", AlreadyKnown),
    ("anvil", -32003, "replacement transaction underpriced", Underpriced),
    ("anvil", -32003, "max fee per gas less than block base fee", Underpriced),
    ("anvil", -32003, "nonce too low", NonceTooLow),
    ("anvil", -32003, "Insufficient funds for gas * price + value", InsufficientFunds),
    ("anvil", -32000, "intrinsic gas too low", Rejected),
    ("anvil", -32000, "intrinsic gas too high -- GasFloorMoreThanGasLimit", Rejected),
    ("anvil", -32003, "invalid chain id for signer", Rejected),
    ("anvil", -32003, "Nonce too high", Rejected),
    (
        "anvil",
        -32003,
        "Transaction gas limit is greater than the block gas limit, gas_limit: 40000000, cap: 30000000",
        Rejected,
    ),
    ("anvil", -32602, "Unknown transaction type not supported", Rejected),
];

#[test]
fn every_client_phrase_gets_its_class() {
    for table in [GETH, RETH, NETHERMIND, ERIGON, BESU, EDR, ANVIL] {
        for &(client, code, message, class) in table {
            assert_eq!(classify(code, message, None), class, "{client} {code} {message:?}");
        }
    }
}

#[test]
fn an_unknown_answer_is_rejected_never_transport() {
    assert_eq!(classify(-32000, "something new", None), Rejected);
    assert_eq!(classify(-32601, "the method eth_sendRawTransaction does not exist/is not available", None), Rejected);
    assert_eq!(classify(-32010, "SomethingNew, detail", None), Rejected);
}

#[test]
fn the_data_member_is_read_when_the_message_says_nothing() {
    // The mechanism, with a made-up detail: a node that puts its reason in `data`.
    let data = Some(r#""transaction nonce 0 below sender account nonce 1, nonce too low""#);
    assert_eq!(classify(-32000, "Invalid params", data), NonceTooLow);
    // The message decides when it knows.
    assert_eq!(classify(-32000, "already known", Some(r#""nonce too low""#)), AlreadyKnown);
}

#[test]
fn codes_decide_before_words() {
    // Besu's -32009 is a fee floor whatever the wording.
    assert_eq!(classify(-32009, "a wording no table knows", None), Underpriced);
    // Nethermind's names only count under its code.
    assert_eq!(classify(-32000, "OldNonce", None), Rejected);
}
