//! The log's own encoding of events: mirror types with bincode 2 derives, converted
//! from and to `machine::Event`. The log format is owned here, not by the JSON
//! contract: a field added to a script never silently changes the bytes of old logs.
//! Variant order is the on-disk tag and must only ever be appended to (FORMAT.md).

use bincode::{Decode, Encode};
use machine::event::{self, BatchLanding, Input};
use machine::{
    Address, BatchNonce, BlockNumber, Bytes, Event, Hash32, OpId, RawConfig, RpcCall, SendClass, UnixMillis,
    WalletNonce, Wei,
};

/// bincode 2's standard configuration: little-endian, variable-length integers.
pub(crate) const CONFIG: bincode::config::Configuration = bincode::config::standard();

#[derive(Encode, Decode, Debug, PartialEq, Eq)]
pub(crate) enum LogEvent {
    Boot {
        now_ms: u64,
        config: LogConfig,
    },
    ChainId {
        chain_id: u64,
    },
    L1 {
        now_ms: u64,
        safe_block: u64,
        safe_timestamp: u64,
        inputs: Vec<LogInput>,
    },
    UnsafeLandings {
        nonces: Vec<u64>,
    },
    Wallet {
        latest: u64,
        pending: u64,
        safe: u64,
        safe_block: u64,
    },
    Tick {
        now_ms: u64,
    },
    Seal {
        payload: Vec<u8>,
    },
    Sent {
        w_nonce: u64,
        tx_hash: [u8; 32],
    },
    SendFailed {
        w_nonce: u64,
        error: String,
    },
    RpcFailed {
        call: u8,
        error: String,
    },
    Db {
        op: u64,
        ok: bool,
    },
    Shutdown,
    // Appended for docs/protocol.md §11: written only when an event uses a field added after
    // version 1, so events without them keep their version-1 bytes.
    BootExt {
        now_ms: u64,
        config: LogConfig,
        extra: Vec<(String, String)>,
    },
    ChainIdExt {
        chain_id: u64,
        genesis_hash: Option<[u8; 32]>,
    },
    L1Ext {
        now_ms: u64,
        safe_block: u64,
        safe_timestamp: u64,
        inputs: Vec<LogInput>,
        from_block: Option<u64>,
        safe_hash: Option<[u8; 32]>,
        parent_hash: Option<[u8; 32]>,
        partial: bool,
    },
    SealExt {
        id: Option<u64>,
        payload: Vec<u8>,
    },
    DbExt {
        op: u64,
        ok: bool,
        error: Option<String>,
    },
    // Appended for docs/protocol.md §11.1 (fees): written only when a fee field is present.
    WalletExt {
        latest: u64,
        pending: u64,
        safe: u64,
        safe_block: u64,
        base_fee_wei: Option<u128>,
        tip_wei: Option<u128>,
    },
    SentExt {
        w_nonce: u64,
        tx_hash: [u8; 32],
        max_fee_per_gas: Option<u128>,
        max_priority_fee_per_gas: Option<u128>,
        gas_limit: Option<u64>,
    },
    SendFailedExt {
        w_nonce: u64,
        error: String,
        class: Option<u8>,
    },
    // Appended for the operator's pause (issue 11).
    Pause {
        reason: String,
    },
    Resume,
    // Appended for ARCHITECTURE.md choice 68: written only when the answer says where it
    // was read, so the answers of older executors keep their bytes.
    UnsafeLandingsAt {
        nonces: Vec<u64>,
        safe_block: u64,
    },
    WalletAt {
        latest: u64,
        pending: u64,
        safe: u64,
        safe_block: u64,
        base_fee_wei: Option<u128>,
        tip_wei: Option<u128>,
        head_block: u64,
    },
}

/// `SendClass` on disk, in the order of docs/protocol.md §11.1.
const SEND_CLASSES: [SendClass; 7] = [
    SendClass::Underpriced,
    SendClass::NonceTooLow,
    SendClass::AlreadyKnown,
    SendClass::InsufficientFunds,
    SendClass::PoolFull,
    SendClass::Rejected,
    SendClass::Transport,
];

fn class_code(class: SendClass) -> u8 {
    // The table holds every variant (seven), so the position is found and fits in a byte.
    SEND_CLASSES.iter().position(|&known| known == class).and_then(|index| u8::try_from(index).ok()).unwrap_or(u8::MAX)
}

/// Config fields added after version 1, by name, value in decimal: new fields need no new
/// layout, and a name this build does not know is a decode error, never ignored.
fn config_extra(raw: &RawConfig) -> Vec<(String, String)> {
    let mut extra = Vec::new();
    if let Some(value) = raw.max_batch_bytes {
        extra.push(("max_batch_bytes".to_owned(), value.to_string()));
    }
    if let Some(value) = raw.start_block {
        extra.push(("start_block".to_owned(), value.to_string()));
    }
    if let Some(value) = raw.min_tip_wei {
        extra.push(("min_tip_wei".to_owned(), value.to_string()));
    }
    if let Some(value) = raw.max_fee_cap_wei {
        extra.push(("max_fee_cap_wei".to_owned(), value.to_string()));
    }
    if let Some(value) = raw.flush_cap_multiplier {
        extra.push(("flush_cap_multiplier".to_owned(), value.to_string()));
    }
    if let Some(value) = raw.resubmit_after_blocks {
        extra.push(("resubmit_after_blocks".to_owned(), value.to_string()));
    }
    if let Some(value) = raw.adopt_l1_history {
        extra.push(("adopt_l1_history".to_owned(), value.to_string()));
    }
    if let Some(value) = raw.prune_after_blocks {
        extra.push(("prune_after_blocks".to_owned(), value.to_string()));
    }
    extra
}

fn apply_config_extra(raw: &mut RawConfig, extra: Vec<(String, String)>) -> Result<(), String> {
    for (name, value) in extra {
        let number = || value.parse::<u64>().map_err(|_| format!("config field {name}: {value:?} is not a u64"));
        let wei = || value.parse::<u128>().map(Wei).map_err(|_| format!("config field {name}: {value:?} is not wei"));
        let flag = || value.parse::<bool>().map_err(|_| format!("config field {name}: {value:?} is not true or false"));
        match name.as_str() {
            "max_batch_bytes" => raw.max_batch_bytes = Some(number()?),
            "start_block" => raw.start_block = Some(number()?),
            "min_tip_wei" => raw.min_tip_wei = Some(wei()?),
            "max_fee_cap_wei" => raw.max_fee_cap_wei = Some(wei()?),
            "flush_cap_multiplier" => raw.flush_cap_multiplier = Some(number()?),
            "resubmit_after_blocks" => raw.resubmit_after_blocks = Some(number()?),
            "adopt_l1_history" => raw.adopt_l1_history = Some(flag()?),
            "prune_after_blocks" => raw.prune_after_blocks = Some(number()?),
            _ => return Err(format!("config field {name:?} is unknown to this build (written by a newer seqrec?)")),
        }
    }
    Ok(())
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
    // Appended for docs/protocol.md §11.7: a landing with its wire bytes (adopting history).
    BatchWire {
        block: u64,
        w_nonce: u64,
        nonce: u64,
        first_frame_safe_block: Option<u64>,
        wire_hash: Option<[u8; 32]>,
        decodes: bool,
        wire: Vec<u8>,
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
            max_batch_bytes: None,
            start_block: None,
            min_tip_wei: None,
            max_fee_cap_wei: None,
            flush_cap_multiplier: None,
            resubmit_after_blocks: None,
            adopt_l1_history: None,
            prune_after_blocks: None,
        }
    }
}

impl From<&Event> for LogEvent {
    fn from(event: &Event) -> Self {
        match event {
            Event::Boot(boot) => {
                let (now_ms, config, extra) =
                    (boot.now_ms.0, LogConfig::from(&boot.config), config_extra(&boot.config));
                if extra.is_empty() {
                    LogEvent::Boot { now_ms, config }
                } else {
                    LogEvent::BootExt { now_ms, config, extra }
                }
            }
            Event::ChainId(event::ChainId { chain_id, genesis_hash: None }) => {
                LogEvent::ChainId { chain_id: *chain_id }
            }
            Event::ChainId(event::ChainId { chain_id, genesis_hash: Some(hash) }) => {
                LogEvent::ChainIdExt { chain_id: *chain_id, genesis_hash: Some(hash.0) }
            }
            Event::L1(sync) => {
                let inputs = sync.inputs.iter().map(LogInput::from).collect();
                let (now_ms, safe_block, safe_timestamp) = (sync.now_ms.0, sync.safe_block.0, sync.safe_timestamp);
                if sync.from_block.is_none() && sync.safe_hash.is_none() && sync.parent_hash.is_none() && !sync.partial
                {
                    LogEvent::L1 { now_ms, safe_block, safe_timestamp, inputs }
                } else {
                    LogEvent::L1Ext {
                        now_ms,
                        safe_block,
                        safe_timestamp,
                        inputs,
                        from_block: sync.from_block.map(|b| b.0),
                        safe_hash: sync.safe_hash.map(|h| h.0),
                        parent_hash: sync.parent_hash.map(|h| h.0),
                        partial: sync.partial,
                    }
                }
            }
            Event::UnsafeLandings(landings) => {
                let nonces = landings.nonces.iter().map(|n| n.0).collect();
                match landings.safe_block {
                    None => LogEvent::UnsafeLandings { nonces },
                    Some(safe_block) => LogEvent::UnsafeLandingsAt { nonces, safe_block: safe_block.0 },
                }
            }
            Event::Wallet(wallet @ event::Wallet { head_block: Some(head_block), .. }) => LogEvent::WalletAt {
                latest: wallet.latest.0,
                pending: wallet.pending.0,
                safe: wallet.safe.0,
                safe_block: wallet.safe_block.0,
                base_fee_wei: wallet.base_fee_wei.map(|wei| wei.0),
                tip_wei: wallet.tip_wei.map(|wei| wei.0),
                head_block: head_block.0,
            },
            Event::Wallet(wallet) if wallet.base_fee_wei.is_none() && wallet.tip_wei.is_none() => LogEvent::Wallet {
                latest: wallet.latest.0,
                pending: wallet.pending.0,
                safe: wallet.safe.0,
                safe_block: wallet.safe_block.0,
            },
            Event::Wallet(wallet) => LogEvent::WalletExt {
                latest: wallet.latest.0,
                pending: wallet.pending.0,
                safe: wallet.safe.0,
                safe_block: wallet.safe_block.0,
                base_fee_wei: wallet.base_fee_wei.map(|wei| wei.0),
                tip_wei: wallet.tip_wei.map(|wei| wei.0),
            },
            Event::Tick(tick) => LogEvent::Tick { now_ms: tick.now_ms.0 },
            Event::Seal(event::Seal { id: None, payload }) => LogEvent::Seal { payload: payload.0.clone() },
            Event::Seal(event::Seal { id, payload }) => LogEvent::SealExt { id: *id, payload: payload.0.clone() },
            Event::Sent(sent)
                if sent.max_fee_per_gas.is_none()
                    && sent.max_priority_fee_per_gas.is_none()
                    && sent.gas_limit.is_none() =>
            {
                LogEvent::Sent { w_nonce: sent.w_nonce.0, tx_hash: sent.tx_hash.0 }
            }
            Event::Sent(sent) => LogEvent::SentExt {
                w_nonce: sent.w_nonce.0,
                tx_hash: sent.tx_hash.0,
                max_fee_per_gas: sent.max_fee_per_gas.map(|wei| wei.0),
                max_priority_fee_per_gas: sent.max_priority_fee_per_gas.map(|wei| wei.0),
                gas_limit: sent.gas_limit,
            },
            Event::SendFailed(failed) => match failed.class {
                None => LogEvent::SendFailed { w_nonce: failed.w_nonce.0, error: failed.error.clone() },
                Some(class) => LogEvent::SendFailedExt {
                    w_nonce: failed.w_nonce.0,
                    error: failed.error.clone(),
                    class: Some(class_code(class)),
                },
            },
            Event::RpcFailed(failed) => {
                LogEvent::RpcFailed { call: call_code(failed.call), error: failed.error.clone() }
            }
            Event::Db(event::Db { op, ok, error: None }) => LogEvent::Db { op: op.0, ok: *ok },
            Event::Db(event::Db { op, ok, error }) => LogEvent::DbExt { op: op.0, ok: *ok, error: error.clone() },
            Event::Shutdown => LogEvent::Shutdown,
            Event::Pause(pause) => LogEvent::Pause { reason: pause.reason.clone() },
            Event::Resume => LogEvent::Resume,
        }
    }
}

impl From<&Input> for LogInput {
    fn from(input: &Input) -> Self {
        match input {
            Input::Direct { block, data } => LogInput::Direct { block: block.0, data: data.0.clone() },
            Input::Batch(landing) => match &landing.wire {
                None => LogInput::Batch {
                    block: landing.block.0,
                    w_nonce: landing.w_nonce.0,
                    nonce: landing.nonce.0,
                    first_frame_safe_block: landing.first_frame_safe_block.map(|b| b.0),
                    wire_hash: landing.wire_hash.map(|h| h.0),
                    decodes: landing.decodes,
                },
                Some(wire) => LogInput::BatchWire {
                    block: landing.block.0,
                    w_nonce: landing.w_nonce.0,
                    nonce: landing.nonce.0,
                    first_frame_safe_block: landing.first_frame_safe_block.map(|b| b.0),
                    wire_hash: landing.wire_hash.map(|h| h.0),
                    decodes: landing.decodes,
                    wire: wire.0.clone(),
                },
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
                    wire: None,
                })
            }
            LogInput::BatchWire { block, w_nonce, nonce, first_frame_safe_block, wire_hash, decodes, wire } => {
                Input::Batch(BatchLanding {
                    block: BlockNumber(block),
                    w_nonce: WalletNonce(w_nonce),
                    nonce: BatchNonce(nonce),
                    first_frame_safe_block: first_frame_safe_block.map(BlockNumber),
                    wire_hash: wire_hash.map(Hash32),
                    decodes,
                    wire: Some(Bytes(wire)),
                })
            }
        }
    }
}

impl LogEvent {
    /// Back to the core's event; `Err` for an `rpc_failed` call code or a config field
    /// this build does not know.
    pub(crate) fn into_event(self) -> Result<Event, String> {
        Ok(match self {
            LogEvent::Boot { now_ms, config } => {
                Event::Boot(event::Boot { now_ms: UnixMillis(now_ms), config: config.into() })
            }
            LogEvent::BootExt { now_ms, config, extra } => {
                let mut config = RawConfig::from(config);
                apply_config_extra(&mut config, extra)?;
                Event::Boot(event::Boot { now_ms: UnixMillis(now_ms), config })
            }
            LogEvent::ChainId { chain_id } => Event::ChainId(event::ChainId { chain_id, genesis_hash: None }),
            LogEvent::ChainIdExt { chain_id, genesis_hash } => {
                Event::ChainId(event::ChainId { chain_id, genesis_hash: genesis_hash.map(Hash32) })
            }
            LogEvent::L1 { now_ms, safe_block, safe_timestamp, inputs } => Event::L1(event::L1 {
                now_ms: UnixMillis(now_ms),
                safe_block: BlockNumber(safe_block),
                safe_timestamp,
                inputs: inputs.into_iter().map(Input::from).collect(),
                from_block: None,
                safe_hash: None,
                parent_hash: None,
                partial: false,
            }),
            LogEvent::L1Ext {
                now_ms,
                safe_block,
                safe_timestamp,
                inputs,
                from_block,
                safe_hash,
                parent_hash,
                partial,
            } => Event::L1(event::L1 {
                now_ms: UnixMillis(now_ms),
                safe_block: BlockNumber(safe_block),
                safe_timestamp,
                inputs: inputs.into_iter().map(Input::from).collect(),
                from_block: from_block.map(BlockNumber),
                safe_hash: safe_hash.map(Hash32),
                parent_hash: parent_hash.map(Hash32),
                partial,
            }),
            LogEvent::UnsafeLandings { nonces } => Event::UnsafeLandings(event::UnsafeLandings {
                nonces: nonces.into_iter().map(BatchNonce).collect(),
                safe_block: None,
            }),
            LogEvent::UnsafeLandingsAt { nonces, safe_block } => Event::UnsafeLandings(event::UnsafeLandings {
                nonces: nonces.into_iter().map(BatchNonce).collect(),
                safe_block: Some(BlockNumber(safe_block)),
            }),
            LogEvent::WalletAt { latest, pending, safe, safe_block, base_fee_wei, tip_wei, head_block } => {
                Event::Wallet(event::Wallet {
                    latest: WalletNonce(latest),
                    pending: WalletNonce(pending),
                    safe: WalletNonce(safe),
                    safe_block: BlockNumber(safe_block),
                    base_fee_wei: base_fee_wei.map(Wei),
                    tip_wei: tip_wei.map(Wei),
                    head_block: Some(BlockNumber(head_block)),
                })
            }
            LogEvent::Wallet { latest, pending, safe, safe_block } => Event::Wallet(event::Wallet {
                latest: WalletNonce(latest),
                pending: WalletNonce(pending),
                safe: WalletNonce(safe),
                safe_block: BlockNumber(safe_block),
                base_fee_wei: None,
                tip_wei: None,
                head_block: None,
            }),
            LogEvent::WalletExt { latest, pending, safe, safe_block, base_fee_wei, tip_wei } => {
                Event::Wallet(event::Wallet {
                    latest: WalletNonce(latest),
                    pending: WalletNonce(pending),
                    safe: WalletNonce(safe),
                    safe_block: BlockNumber(safe_block),
                    base_fee_wei: base_fee_wei.map(Wei),
                    tip_wei: tip_wei.map(Wei),
                    head_block: None,
                })
            }
            LogEvent::Tick { now_ms } => Event::Tick(event::Tick { now_ms: UnixMillis(now_ms) }),
            LogEvent::Seal { payload } => Event::Seal(event::Seal { id: None, payload: Bytes(payload) }),
            LogEvent::SealExt { id, payload } => Event::Seal(event::Seal { id, payload: Bytes(payload) }),
            LogEvent::Sent { w_nonce, tx_hash } => Event::Sent(event::Sent {
                w_nonce: WalletNonce(w_nonce),
                tx_hash: Hash32(tx_hash),
                max_fee_per_gas: None,
                max_priority_fee_per_gas: None,
                gas_limit: None,
            }),
            LogEvent::SentExt { w_nonce, tx_hash, max_fee_per_gas, max_priority_fee_per_gas, gas_limit } => {
                Event::Sent(event::Sent {
                    w_nonce: WalletNonce(w_nonce),
                    tx_hash: Hash32(tx_hash),
                    max_fee_per_gas: max_fee_per_gas.map(Wei),
                    max_priority_fee_per_gas: max_priority_fee_per_gas.map(Wei),
                    gas_limit,
                })
            }
            LogEvent::SendFailedExt { w_nonce, error, class } => {
                let class = class
                    .map(|code| {
                        SEND_CLASSES
                            .get(usize::from(code))
                            .copied()
                            .ok_or_else(|| format!("unknown send_failed class code {code}"))
                    })
                    .transpose()?;
                Event::SendFailed(event::SendFailed { w_nonce: WalletNonce(w_nonce), error, class })
            }
            LogEvent::SendFailed { w_nonce, error } => {
                Event::SendFailed(event::SendFailed { w_nonce: WalletNonce(w_nonce), error, class: None })
            }
            LogEvent::RpcFailed { call, error } => {
                let call = call_from_code(call).ok_or_else(|| format!("unknown rpc_failed call code {call}"))?;
                Event::RpcFailed(event::RpcFailed { call, error })
            }
            LogEvent::Db { op, ok } => Event::Db(event::Db { op: OpId(op), ok, error: None }),
            LogEvent::DbExt { op, ok, error } => Event::Db(event::Db { op: OpId(op), ok, error }),
            LogEvent::Shutdown => Event::Shutdown,
            LogEvent::Pause { reason } => Event::Pause(event::Pause { reason }),
            LogEvent::Resume => Event::Resume,
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
    log_event.into_event()
}
