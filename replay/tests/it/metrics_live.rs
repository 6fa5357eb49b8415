//! `seqrec run --metrics` against anvil and hardhat's EDR node: during a stale-batch incident a scraper sees the
//! batch's age in blocks climb to the danger threshold (the safety margin falling to 0),
//! the sends, the L1 port's calls and the exit counted, `/healthz` healthy and `/readyz`
//! ready while admitted, then not ready at the exit.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::anvil::kib_payload;
use super::live::{Miner, Node, Process, finish, free_port, run_command, scratch, seqrec};

/// A plain HTTP/1.0 GET: the status code and the body, or `None` when nothing listens.
fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    Some((status, body))
}

/// The value of the first sample of `name` whose labels contain `labels`.
fn sample(metrics: &str, name: &str, labels: &str) -> Option<f64> {
    metrics.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let matches = if labels.is_empty() {
            series == name
        } else {
            series.starts_with(&format!("{name}{{")) && series.contains(labels)
        };
        matches.then(|| value.parse().ok()).flatten()
    })
}

#[test]
fn a_scraper_sees_the_batch_age_reach_the_danger_threshold_and_readiness_end_at_the_exit_on_anvil() {
    scraped_incident(Node::Anvil);
}

#[test]
fn a_scraper_sees_the_batch_age_reach_the_danger_threshold_and_readiness_end_at_the_exit_on_hardhat() {
    scraped_incident(Node::Hardhat);
}

/// A 4 KiB batch is censored until the detector exits; a scraper watches throughout.
fn scraped_incident(node: Node) {
    let Some((_node, url)) = node.start() else { return };
    let dir = scratch(&format!("{}-metrics-incident", node.name()));
    let (db, log) = (dir.join("p.db"), dir.join("run.seqlog"));
    let (db_arg, log_arg) = (db.to_str().unwrap(), log.to_str().unwrap());
    let addr = format!("127.0.0.1:{}", free_port());
    let _miner = Miner::start(&url, true);
    let mut command = run_command(&url, db_arg, log_arg);
    command.args(["--metrics", &addr, "--metrics-linger-ms", "3000"]).stderr(Stdio::piped());
    let mut run = Process(command.spawn().unwrap());
    let (mut ready_seen, mut healthy_seen, mut ages) = (false, false, Vec::new());
    let mut sealed = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = String::new();
    let exited = loop {
        if let Some((200, body)) = get(&addr, "/metrics") {
            if let Some(age) = sample(&body, "seqrec_batch_age_blocks", "batch=\"") {
                ages.push(age);
            }
            last = body;
        }
        healthy_seen |= get(&addr, "/healthz").is_some_and(|(status, _)| status == 200);
        let ready = get(&addr, "/readyz").is_some_and(|(status, _)| status == 200);
        ready_seen |= ready;
        if ready && !sealed {
            // A batch of production size, not a token byte.
            assert!(seqrec(&["seal", "--db", db_arg, "--payload", &kib_payload(4, 1)]).status.success());
            sealed = true;
        }
        if run.0.try_wait().unwrap().is_some() {
            break true;
        }
        // The exit step sets the gauges and readiness; the server lingers 3 s after it.
        if let Some((503, why)) = get(&addr, "/readyz").filter(|_| sealed && !ages.is_empty())
            && (why.contains("exiting") || why.contains("stopped"))
        {
            let (status, metrics) = get(&addr, "/metrics").unwrap_or_default();
            if status == 200 {
                last = metrics;
            }
            break false;
        }
        assert!(Instant::now() < deadline, "no exit within 120 s; last scrape:\n{last}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let threshold = sample(&last, "seqrec_danger_threshold_blocks", "").unwrap_or(f64::NAN);
    assert_eq!(threshold, 15.0, "max wait 20 - margin 5:\n{last}");
    assert!(healthy_seen && ready_seen, "healthz and readyz answered 200 while admitted");
    let final_age = sample(&last, "seqrec_batch_age_blocks", "batch=\"").unwrap_or(f64::NAN);
    assert!(final_age >= threshold, "the batch's age at the exit ({final_age}) reached the threshold:\n{last}");
    assert!(ages.iter().any(|&age| age < threshold), "the scraper saw the age below the threshold first: {ages:?}");
    assert_eq!(sample(&last, "seqrec_safety_margin_blocks", ""), Some(0.0), "{last}");
    assert_eq!(sample(&last, "seqrec_exits_total", "code=\"recovery_required\""), Some(1.0), "{last}");
    assert!(sample(&last, "seqrec_sends_total", "kind=\"batch\"").is_some_and(|sends| sends >= 1.0), "{last}");
    assert!(
        sample(&last, "seqrec_rpc_calls_total", "method=\"sync_safe\"").is_some_and(|calls| calls >= 1.0),
        "{last}"
    );
    assert!(last.contains("seqrec_log_append_seconds_bucket"), "{last}");
    if !exited {
        let (status, why) = get(&addr, "/readyz").unwrap_or_default();
        assert!(status == 503 || status == 0, "not ready at the exit: {status} {why}");
    }
    documented(&last);
    let (code, stderr) = finish(run);
    assert_eq!(code, Some(10), "the detector exits recovery_required:\n{stderr}");
    // The logs speak: the send, with its hash and bid, and the exit at ERROR.
    assert!(stderr.contains(" INFO") && stderr.contains("sent") && stderr.contains("tx_hash="), "{stderr}");
    assert!(stderr.contains("ERROR") && stderr.contains("code=\"recovery_required\""), "{stderr}");
    assert!(stderr.contains(" WARN") && stderr.contains("danger"), "{stderr}");
}

/// Every metric the scrape shows is in docs/metrics.md, and every metric the alert rules
/// use is too: the documentation and the rules cannot name what `run` does not export.
fn documented(scrape: &str) {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let page = std::fs::read_to_string(docs.join("metrics.md")).unwrap();
    let rules = std::fs::read_to_string(docs.join("alerts.rules.yml")).unwrap();
    let names = |text: &str| -> std::collections::BTreeSet<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| word.starts_with("seqrec_"))
            .map(|word| {
                let word = word.trim_end_matches("_bucket").trim_end_matches("_sum").trim_end_matches("_count");
                word.trim_end_matches("_total").to_owned()
            })
            .collect()
    };
    let in_page = names(&page);
    for name in names(scrape).into_iter().chain(names(&rules)) {
        assert!(in_page.contains(&name), "{name} is not documented in docs/metrics.md");
    }
}
