//! `seqrec run --metrics ADDR`: Prometheus text on `/metrics`, `/healthz` (the process
//! serves and its log takes appends) and `/readyz` (admitted, the L1 view fresh, not
//! exiting), served by a thread of its own from values the run loop sets after each
//! step (ARCHITECTURE.md choice 60). The core is never asked anything: everything comes
//! from the events, effects and `machine::watch` of the state after the step.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use machine::{Danger, Effect, Event, State, Step, UnixMillis};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::resend::Tracker;

type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// Every metric `run` exports, and the health flags.
#[derive(Debug)]
pub(super) struct Metrics {
    registry: Registry,
    batch_age: Family<Labels, Gauge>,
    unresolved: Gauge,
    margin: Gauge,
    threshold: Gauge,
    max_wait: Gauge,
    safe_head: Gauge,
    generation: Gauge,
    admitted: Gauge,
    paused: Gauge,
    danger: Family<Labels, Gauge>,
    base_fee: FloatGauge,
    bid_max_fee: FloatGauge,
    bid_tip: FloatGauge,
    sends: Family<Labels, Counter>,
    send_failures: Family<Labels, Counter>,
    rpc_calls: Family<Labels, Counter>,
    rpc_errors: Family<Labels, Counter>,
    decisions: Family<Labels, Counter>,
    exits: Family<Labels, Counter>,
    resends: Family<Labels, Counter>,
    /// Follows the sends for `resends`, from the state of the first step this process took.
    tracker: std::sync::Mutex<Option<(u64, Tracker)>>,
    append_seconds: Histogram,
    /// The last append to the log succeeded.
    log_writable: AtomicBool,
    /// Admitted with a fresh view, and not exiting.
    ready: AtomicBool,
    /// Why not ready, for `/readyz`'s body.
    not_ready: std::sync::Mutex<String>,
}

impl Metrics {
    pub(super) fn new() -> Self {
        let mut registry = Registry::with_prefix("seqrec");
        let metrics = Metrics {
            registry: Registry::default(),
            batch_age: Family::default(),
            unresolved: Gauge::default(),
            margin: Gauge::default(),
            threshold: Gauge::default(),
            max_wait: Gauge::default(),
            safe_head: Gauge::default(),
            generation: Gauge::default(),
            admitted: Gauge::default(),
            paused: Gauge::default(),
            danger: Family::default(),
            base_fee: FloatGauge::default(),
            bid_max_fee: FloatGauge::default(),
            bid_tip: FloatGauge::default(),
            sends: Family::default(),
            send_failures: Family::default(),
            rpc_calls: Family::default(),
            rpc_errors: Family::default(),
            decisions: Family::default(),
            exits: Family::default(),
            resends: Family::default(),
            tracker: std::sync::Mutex::new(None),
            append_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            log_writable: AtomicBool::new(true),
            ready: AtomicBool::new(false),
            not_ready: std::sync::Mutex::new("starting".to_owned()),
        };
        let r = &mut registry;
        r.register(
            "batch_age_blocks",
            "Safe blocks since each unresolved batch's first frame's safe block",
            metrics.batch_age.clone(),
        );
        r.register(
            "unresolved_batches",
            "Batches on the valid path the scheduler has not accepted yet",
            metrics.unresolved.clone(),
        );
        r.register(
            "safety_margin_blocks",
            "Blocks the oldest unresolved batch has left before the danger threshold (-1: none unresolved)",
            metrics.margin.clone(),
        );
        r.register("danger_threshold_blocks", "max_wait_blocks - preemptive_margin_blocks", metrics.threshold.clone());
        r.register("max_wait_blocks", "The age at which the scheduler skips a batch", metrics.max_wait.clone());
        r.register("safe_head_block", "The L1 safe head the core knows", metrics.safe_head.clone());
        r.register("generation", "Recoveries so far (docs/protocol.md §2)", metrics.generation.clone());
        r.register("admitted", "1 when the process is admitted (submitting)", metrics.admitted.clone());
        r.register("paused", "1 while an operator has paused submissions (`seqrec pause`)", metrics.paused.clone());
        r.register("danger", "1 for the danger the core classifies now", metrics.danger.clone());
        r.register("base_fee_wei", "The pending block's base fee, last read", metrics.base_fee.clone());
        r.register("bid_max_fee_per_gas_wei", "maxFeePerGas of our last signed send", metrics.bid_max_fee.clone());
        r.register(
            "bid_max_priority_fee_per_gas_wei",
            "maxPriorityFeePerGas of our last signed send",
            metrics.bid_tip.clone(),
        );
        r.register("sends", "Transactions signed and sent, by kind (batch, noop)", metrics.sends.clone());
        r.register("send_failures", "Sends the node refused, by class", metrics.send_failures.clone());
        r.register("rpc_calls", "Calls of the L1 port, by method", metrics.rpc_calls.clone());
        r.register("rpc_errors", "Failed calls of the L1 port, by method and class", metrics.rpc_errors.clone());
        r.register("decisions", "Startup decisions taken, by kind", metrics.decisions.clone());
        r.register("exits", "Exits asked by the core, by code", metrics.exits.clone());
        r.register(
            "resends",
            "Batch contents sent again at a second wallet nonce, by whether the first slot was known lost (first_slot: live, lost)",
            metrics.resends.clone(),
        );
        r.register("log_append_seconds", "Time to append one record durably", metrics.append_seconds.clone());
        // Both series from the start: a dashboard shows 0, and an alert's `increase` has a base.
        for first_slot in ["live", "lost"] {
            let _ = metrics.resends.get_or_create(&vec![("first_slot", first_slot.to_owned())]);
        }
        Metrics { registry, ..metrics }
    }

    /// Updates everything a step shows: the state after it (`watch`), the event's outcome
    /// and the effects' exits.
    pub(super) fn stepped(&self, state: &State, event: &Event, step: &Step) {
        match event {
            Event::Wallet(wallet) => {
                if let Some(fees) = wallet.fees() {
                    self.base_fee.set(fees.base_fee.0 as f64);
                }
            }
            Event::Sent(sent) => {
                if let Some(bid) = sent.bid() {
                    self.bid_max_fee.set(bid.max_fee_per_gas.0 as f64);
                    self.bid_tip.set(bid.max_priority_fee_per_gas.0 as f64);
                }
            }
            Event::SendFailed(failed) => {
                let class = failed.class.map_or("unclassified", machine::SendClass::name);
                self.send_failures.get_or_create(&vec![("class", class.to_owned())]).inc();
            }
            _ => {}
        }
        for note in &step.notes {
            if let Some(decision) = note.decision {
                self.decisions.get_or_create(&vec![("decision", decision.name().to_owned())]).inc();
            }
        }
        let mut exiting = false;
        for effect in &step.effects {
            match effect {
                Effect::Submit { .. } => self.sends.get_or_create(&vec![("kind", "batch".to_owned())]).inc(),
                Effect::Noop { .. } => self.sends.get_or_create(&vec![("kind", "noop".to_owned())]).inc(),
                Effect::Exit { code, .. } => {
                    exiting = true;
                    self.exits.get_or_create(&vec![("code", code.name().to_owned())]).inc()
                }
                _ => 0,
            };
        }
        self.resent(state, event, step);
        self.watch(state, state.now_ms(), exiting);
    }

    /// Counts a resend the step's event completes ([`crate::resend`]).
    fn resent(&self, state: &State, event: &Event, step: &Step) {
        let Ok(mut tracker) = self.tracker.lock() else { return };
        let (seq, tracker) = tracker.get_or_insert_with(|| (0, Tracker::resumed(state)));
        *seq += 1;
        if let Some(resend) = tracker.observe(*seq, event, crate::resend::sends_of(&step.effects)) {
            let first_slot = if resend.lost.is_some() { "lost" } else { "live" };
            self.resends.get_or_create(&vec![("first_slot", first_slot.to_owned())]).inc();
        }
    }

    /// The gauges of `machine::watch`, and readiness.
    fn watch(&self, state: &State, now: UnixMillis, exiting: bool) {
        self.paused.set(i64::from(state.paused().is_some()));
        let Some(watch) = machine::watch(state, now) else {
            self.set_ready(false, "no valid boot config yet");
            return;
        };
        self.batch_age.clear();
        for batch in &watch.unresolved {
            let labels = vec![
                ("batch", batch.index.0.to_string()),
                ("nonce", batch.nonce.0.to_string()),
                ("state", if batch.closed { "closed" } else { "open" }.to_owned()),
            ];
            self.batch_age.get_or_create(&labels).set(gauge(batch.age_blocks));
        }
        self.unresolved.set(gauge(watch.unresolved.len() as u64));
        self.margin.set(watch.margin_blocks.map_or(-1, gauge));
        self.threshold.set(gauge(watch.danger_threshold_blocks));
        self.max_wait.set(gauge(watch.max_wait_blocks));
        self.safe_head.set(watch.safe_head.map_or(-1, |head| gauge(head.0)));
        self.generation.set(gauge(watch.generation));
        self.admitted.set(i64::from(watch.admitted));
        self.danger.clear();
        self.danger.get_or_create(&vec![("danger", watch.danger.name().to_owned())]).set(1);
        let fresh = !matches!(watch.danger, Danger::L1ViewStale);
        match (exiting, watch.admitted, fresh) {
            (true, _, _) => self.set_ready(false, "exiting"),
            (false, false, _) => self.set_ready(false, "not admitted: startup recovery or initial sync"),
            (false, true, false) => self.set_ready(false, "the L1 view is stale"),
            (false, true, true) => self.set_ready(true, "ready"),
        }
    }

    pub(super) fn set_ready(&self, ready: bool, why: &str) {
        self.ready.store(ready, Ordering::Release);
        if let Ok(mut reason) = self.not_ready.lock() {
            why.clone_into(&mut reason);
        }
    }

    /// One call of the L1 port `method`, and the class of its failure if it failed
    /// (`L1Error::class`, or a send's class).
    pub(super) fn rpc(&self, method: &'static str, failed: Option<&'static str>) {
        self.rpc_calls.get_or_create(&vec![("method", method.to_owned())]).inc();
        if let Some(class) = failed {
            self.rpc_errors.get_or_create(&vec![("method", method.to_owned()), ("class", class.to_owned())]).inc();
        }
    }

    /// One append to the log, and whether it succeeded.
    pub(super) fn appended(&self, took: Duration, ok: bool) {
        self.append_seconds.observe(took.as_secs_f64());
        self.log_writable.store(ok, Ordering::Release);
    }

    fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// A gauge's `i64` from a count (saturating: no count here comes near `i64::MAX`).
fn gauge(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Serves `metrics` on `addr` from a thread of its own until the process ends.
///
/// # Errors
/// The address cannot be bound, with the reason.
pub(super) fn serve(addr: &str, metrics: Arc<Metrics>) -> Result<(), String> {
    let server = tiny_http::Server::http(addr).map_err(|error| format!("--metrics {addr}: cannot listen: {error}"))?;
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = request.url().split('?').next().unwrap_or_default().to_owned();
            let (status, body, content_type) = match path.as_str() {
                "/metrics" => (200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8"),
                "/healthz" if metrics.log_writable.load(Ordering::Acquire) => (200, "ok\n".to_owned(), "text/plain"),
                "/healthz" => (503, "the log does not take appends\n".to_owned(), "text/plain"),
                "/readyz" => {
                    let why = metrics.not_ready.lock().map(|why| why.clone()).unwrap_or_default();
                    let status = if metrics.ready.load(Ordering::Acquire) { 200 } else { 503 };
                    (status, format!("{why}\n"), "text/plain")
                }
                _ => (404, "not found: /metrics, /healthz, /readyz\n".to_owned(), "text/plain"),
            };
            let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes());
            let mut response = tiny_http::Response::from_string(body).with_status_code(status);
            if let Ok(header) = header {
                response = response.with_header(header);
            }
            // A client that hung up is its own problem.
            let _ = request.respond(response);
        }
    });
    Ok(())
}
