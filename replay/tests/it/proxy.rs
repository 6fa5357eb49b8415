//! An HTTP/1.1 proxy on 127.0.0.1 in front of a dev node, for the live tests: it passes
//! each request on and its answer back, and a [`Hook`] may answer a request itself or
//! rewrite the node's answer. `rpc_calls.rs` counts calls with it; `node_faults.rs`
//! injects faulty answers (a JSON-RPC error, an empty result, garbage, an oversized block).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What the proxy does with each request.
pub(crate) trait Hook: Send + Sync + 'static {
    /// An answer body of its own for the request `body`, instead of the node's.
    fn answer(&self, body: &[u8]) -> Option<Vec<u8>>;
    /// The node's answer body to `request`, as passed on to the client.
    fn rewrite(&self, _request: &[u8], answer: Vec<u8>) -> Vec<u8> {
        answer
    }
}

/// A running proxy; it stops accepting when dropped.
pub(crate) struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// Starts a proxy to the node at `target` (`http://HOST:PORT`).
    pub(crate) fn start(target: &str, hook: Arc<dyn Hook>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = target.trim_start_matches("http://").to_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !thread_stop.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                let (target, hook) = (target.clone(), Arc::clone(&hook));
                std::thread::spawn(move || {
                    let _ = client.set_nonblocking(false);
                    let _ = serve(client, &target, hook.as_ref());
                });
            }
        });
        Proxy { port, stop }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One HTTP message: its head lines (without a framing header) and its body, framed by
/// `content-length` (anvil, alloy's client) or chunked (hardhat).
fn read_message(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let (mut head, mut length, mut chunked) = (String::new(), 0usize, false);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
            continue;
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
            continue;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    if !chunked {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        return Some((head, body));
    }
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some((head, body));
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// `head` (without its blank line) and `body`, framed by `content-length`.
fn write_message(stream: &mut TcpStream, head: &str, body: &[u8]) -> Option<()> {
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(format!("content-length: {}\r\n\r\n", body.len()).as_bytes()).ok()?;
    stream.write_all(body).ok()
}

/// Serves each request on one client connection, over one connection of its own to the node.
fn serve(client: TcpStream, target: &str, hook: &dyn Hook) -> Option<()> {
    let mut client_reader = BufReader::new(client.try_clone().ok()?);
    let mut client = client;
    let upstream = TcpStream::connect(target).ok()?;
    let mut upstream_reader = BufReader::new(upstream.try_clone().ok()?);
    let mut upstream = upstream;
    loop {
        let (head, body) = read_message(&mut client_reader)?;
        let closing = head.to_ascii_lowercase().contains("connection: close");
        match hook.answer(&body) {
            Some(answer) => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n";
                write_message(&mut client, head, &answer)?;
            }
            None => {
                write_message(&mut upstream, &head, &body)?;
                let (answer_head, answer) = read_message(&mut upstream_reader)?;
                write_message(&mut client, &answer_head, &hook.rewrite(&body, answer))?;
            }
        }
        // The tests' own plain calls read the answer until the connection closes.
        if closing {
            return Some(());
        }
    }
}
