//! What `seqrec run` says on standard error: tracing, filtered by `--log-level` or
//! `RUST_LOG`, as text or JSON lines.

/// Structured logs on standard error: `text` or one JSON object per line.
pub(super) fn init_logging(json: bool) {
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).with_ansi(false);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
