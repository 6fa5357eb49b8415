//! The log's own encoding of events: mirror types with bincode 2 derives, converted
//! from and to `machine::Event`. The log format is owned here, not by the JSON
//! contract: a field added to a script never silently changes the bytes of old logs.
//! Variant order is the on-disk tag and must only ever be appended to (FORMAT.md).

use bincode::{Decode, Encode};
use machine::event::{self, BatchLanding, Input};
use machine::{
    Address, BatchNonce, BlockNumber, Bytes, Event, Hash32, OpId, RawConfig, RpcCall, UnixMillis, WalletNonce,
};

/// bincode 2's standard configuration: little-endian, variable-length integers.
pub(crate) const CONFIG: bincode::config::Configuration = bincode::config::standard();

#[derive(Encode, Decode, Debug, PartialEq, Eq)]
pub(crate) enum LogEvent {
    Boot { now_ms: u64, config: LogConfig },
    ChainId { chain_id: u64 },
    L1 { now_ms: u64, safe_block: u64, safe_timestamp: u64, inputs: Vec<LogInput> },
    UnsafeLandings { nonces: Vec<u64> },
    Wallet { latest: u64, pending: u64, safe: u64, safe_block: u64 },
    Tick { now_ms: u64 },
    Seal { payload: Vec<u8> },
    Sent { w_nonce: u64, tx_hash: [u8; 32] },
    SendFailed { w_nonce: u64, error: String },
    RpcFailed { call: u8, error: String },
    Db { op: u64, ok: bool },
    Shutdown,
}

#[derive(Encode, Decode, Debug, PartialEq, Eq)]
pub(crate) struct LogConfig {
    chain_id: Option<u64>,
    batch_submitter: Option<[u8; 20]>,
    inbox: Option<[u8; 20]>,
    max_wait_blocks: Option<u64>,
    preemptive_margin_blocks: Option<u64>,
    l1_read_stale_after_blocks: Option<u64>,
    seconds_per_block: Option<u64>,
    confirmation_depth: Option<u64>,
    detector_interval_ms: Option<u64>,
    submit_interval_ms: Option<u64>,
    anchor_nonce: Option<u64>,
}

#[derive(Encode, Decode, Debug, PartialEq, Eq)]
pub(crate) enum LogInput {
    Direct {
        block: u64,
        data: Vec<u8>,
    },
    Batch {
        block: u64,
        w_nonce: u64,
        nonce: u64,
        first_frame_safe_block: Option<u64>,
        wire_hash: Option<[u8; 32]>,
        decodes: bool,
    },
}

/// `RpcCall` on disk: 0 chain_id, 1 l1, 2 wallet, 3 unsafe_landings.
fn call_code(call: RpcCall) -> u8 {
    match call {
        RpcCall::ChainId => 0,
        RpcCall::L1 => 1,
        RpcCall::Wallet => 2,
        RpcCall::UnsafeLandings => 3,
    }
}

fn call_from_code(code: u8) -> Option<RpcCall> {
    Some(match code {
        0 => RpcCall::ChainId,
        1 => RpcCall::L1,
        2 => RpcCall::Wallet,
        3 => RpcCall::UnsafeLandings,
        _ => return None,
    })
}

impl From<&RawConfig> for LogConfig {
    fn from(raw: &RawConfig) -> Self {
        LogConfig {
            chain_id: raw.chain_id,
            batch_submitter: raw.batch_submitter.map(|a| a.0),
            inbox: raw.inbox.map(|a| a.0),
            max_wait_blocks: raw.max_wait_blocks,
            preemptive_margin_blocks: raw.preemptive_margin_blocks,
            l1_read_stale_after_blocks: raw.l1_read_stale_after_blocks,
            seconds_per_block: raw.seconds_per_block,
            confirmation_depth: raw.confirmation_depth,
            detector_interval_ms: raw.detector_interval_ms,
            submit_interval_ms: raw.submit_interval_ms,
            anchor_nonce: raw.anchor_nonce,
        }
    }
}

impl From<LogConfig> for RawConfig {
    fn from(log: LogConfig) -> Self {
        RawConfig {
            chain_id: log.chain_id,
            batch_submitter: log.batch_submitter.map(Address),
            inbox: log.inbox.map(Address),
            max_wait_blocks: log.max_wait_blocks,
            preemptive_margin_blocks: log.preemptive_margin_blocks,
            l1_read_stale_after_blocks: log.l1_read_stale_after_blocks,
            seconds_per_block: log.seconds_per_block,
            confirmation_depth: log.confirmation_depth,
            detector_interval_ms: log.detector_interval_ms,
            submit_interval_ms: log.submit_interval_ms,
            anchor_nonce: log.anchor_nonce,
        }
    }
}

impl From<&Event> for LogEvent {
    fn from(event: &Event) -> Self {
        match event {
            Event::Boot(boot) => LogEvent::Boot { now_ms: boot.now_ms.0, config: LogConfig::from(&boot.config) },
            Event::ChainId(answer) => LogEvent::ChainId { chain_id: answer.chain_id },
            Event::L1(sync) => LogEvent::L1 {
                now_ms: sync.now_ms.0,
                safe_block: sync.safe_block.0,
                safe_timestamp: sync.safe_timestamp,
                inputs: sync.inputs.iter().map(LogInput::from).collect(),
            },
            Event::UnsafeLandings(landings) => {
                LogEvent::UnsafeLandings { nonces: landings.nonces.iter().map(|n| n.0).collect() }
            }
            Event::Wallet(wallet) => LogEvent::Wallet {
                latest: wallet.latest.0,
                pending: wallet.pending.0,
                safe: wallet.safe.0,
                safe_block: wallet.safe_block.0,
            },
            Event::Tick(tick) => LogEvent::Tick { now_ms: tick.now_ms.0 },
            Event::Seal(seal) => LogEvent::Seal { payload: seal.payload.0.clone() },
            Event::Sent(sent) => LogEvent::Sent { w_nonce: sent.w_nonce.0, tx_hash: sent.tx_hash.0 },
            Event::SendFailed(failed) => {
                LogEvent::SendFailed { w_nonce: failed.w_nonce.0, error: failed.error.clone() }
            }
            Event::RpcFailed(failed) => {
                LogEvent::RpcFailed { call: call_code(failed.call), error: failed.error.clone() }
            }
            Event::Db(db) => LogEvent::Db { op: db.op.0, ok: db.ok },
            Event::Shutdown => LogEvent::Shutdown,
        }
    }
}

impl From<&Input> for LogInput {
    fn from(input: &Input) -> Self {
        match input {
            Input::Direct { block, data } => LogInput::Direct { block: block.0, data: data.0.clone() },
            Input::Batch(landing) => LogInput::Batch {
                block: landing.block.0,
                w_nonce: landing.w_nonce.0,
                nonce: landing.nonce.0,
                first_frame_safe_block: landing.first_frame_safe_block.map(|b| b.0),
                wire_hash: landing.wire_hash.map(|h| h.0),
                decodes: landing.decodes,
            },
        }
    }
}

impl From<LogInput> for Input {
    fn from(input: LogInput) -> Self {
        match input {
            LogInput::Direct { block, data } => Input::Direct { block: BlockNumber(block), data: Bytes(data) },
            LogInput::Batch { block, w_nonce, nonce, first_frame_safe_block, wire_hash, decodes } => {
                Input::Batch(BatchLanding {
                    block: BlockNumber(block),
                    w_nonce: WalletNonce(w_nonce),
                    nonce: BatchNonce(nonce),
                    first_frame_safe_block: first_frame_safe_block.map(BlockNumber),
                    wire_hash: wire_hash.map(Hash32),
                    decodes,
                })
            }
        }
    }
}

impl LogEvent {
    /// Back to the core's event; `None` only for an `rpc_failed` call code this build
    /// does not know.
    pub(crate) fn into_event(self) -> Option<Event> {
        Some(match self {
            LogEvent::Boot { now_ms, config } => {
                Event::Boot(event::Boot { now_ms: UnixMillis(now_ms), config: config.into() })
            }
            LogEvent::ChainId { chain_id } => Event::ChainId(event::ChainId { chain_id }),
            LogEvent::L1 { now_ms, safe_block, safe_timestamp, inputs } => Event::L1(event::L1 {
                now_ms: UnixMillis(now_ms),
                safe_block: BlockNumber(safe_block),
                safe_timestamp,
                inputs: inputs.into_iter().map(Input::from).collect(),
            }),
            LogEvent::UnsafeLandings { nonces } => {
                Event::UnsafeLandings(event::UnsafeLandings { nonces: nonces.into_iter().map(BatchNonce).collect() })
            }
            LogEvent::Wallet { latest, pending, safe, safe_block } => Event::Wallet(event::Wallet {
                latest: WalletNonce(latest),
                pending: WalletNonce(pending),
                safe: WalletNonce(safe),
                safe_block: BlockNumber(safe_block),
            }),
            LogEvent::Tick { now_ms } => Event::Tick(event::Tick { now_ms: UnixMillis(now_ms) }),
            LogEvent::Seal { payload } => Event::Seal(event::Seal { payload: Bytes(payload) }),
            LogEvent::Sent { w_nonce, tx_hash } => {
                Event::Sent(event::Sent { w_nonce: WalletNonce(w_nonce), tx_hash: Hash32(tx_hash) })
            }
            LogEvent::SendFailed { w_nonce, error } => {
                Event::SendFailed(event::SendFailed { w_nonce: WalletNonce(w_nonce), error })
            }
            LogEvent::RpcFailed { call, error } => {
                Event::RpcFailed(event::RpcFailed { call: call_from_code(call)?, error })
            }
            LogEvent::Db { op, ok } => Event::Db(event::Db { op: OpId(op), ok }),
            LogEvent::Shutdown => Event::Shutdown,
        })
    }
}

/// Encodes an event in the log's byte layout.
pub(crate) fn encode_event(event: &Event) -> Vec<u8> {
    // Encoding owned plain data into a Vec cannot fail; an empty result would then fail
    // every chain check loudly rather than write a wrong record silently.
    bincode::encode_to_vec(LogEvent::from(event), CONFIG).unwrap_or_default()
}

/// Decodes an event; `Err` names what bincode found wrong.
pub(crate) fn decode_event(bytes: &[u8]) -> Result<Event, String> {
    let (log_event, used): (LogEvent, usize) =
        bincode::decode_from_slice(bytes, CONFIG).map_err(|error| error.to_string())?;
    if used != bytes.len() {
        return Err(format!("{} trailing bytes after the event", bytes.len() - used));
    }
    log_event.into_event().ok_or_else(|| "unknown rpc_failed call code".to_owned())
}
