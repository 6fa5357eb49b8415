//! The Ethereum adapter's sends against anvil (gated by `SEQREC_ANVIL`): an answer lost
//! in transit and an identical resend both count as sent, found by the transaction's
//! hash; a used nonce comes back classified with the node's own message.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use effects::L1 as _;
use effects::SendError;
use effects::eth::{EthL1, SigningKey};
use machine::{SendClass, WalletNonce};

/// anvil's first development key.
const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const INBOX: machine::Address = machine::Address([0x22; 20]);

struct Anvil(Child);

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn anvil() -> Option<(Anvil, u16)> {
    let Ok(binary) = std::env::var("SEQREC_ANVIL") else {
        crate::gate::skip("SEQREC_ANVIL is not set (run `cargo xtask nodes`)", crate::gate::Needs::Node);
        return None;
    };
    let port = free_port();
    let child = Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--no-mining", "--silent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "anvil did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((Anvil(child), port))
}

/// One HTTP message (headers and a `Content-Length` body) from `reader`; `None` at EOF.
fn read_message(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
        message.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    message.extend_from_slice(&body);
    Some(message)
}

/// A proxy to anvil that forwards every request but never answers a send: the
/// transaction reaches the pool and its answer is lost.
fn lossy_proxy(anvil_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut replies = client.try_clone().unwrap();
                let mut requests = BufReader::new(client);
                while let Some(request) = read_message(&mut requests) {
                    let upstream = TcpStream::connect(("127.0.0.1", anvil_port)).unwrap();
                    (&upstream).write_all(&request).unwrap();
                    let Some(response) = read_message(&mut BufReader::new(upstream)) else { return };
                    if String::from_utf8_lossy(&request).contains("eth_sendRawTransaction") {
                        return;
                    }
                    replies.write_all(&response).unwrap();
                }
            });
        }
    });
    port
}

fn adapter(port: u16) -> EthL1 {
    let key = SigningKey::parse(DEV_KEY).unwrap();
    EthL1::connect(&format!("http://127.0.0.1:{port}"), key, INBOX, Duration::from_secs(5)).unwrap()
}

fn anvil_call(port: u16, method: &str, params: &str) -> String {
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn lost_answers_and_identical_resends_count_as_sent_and_used_nonces_are_classified() {
    let Some((_anvil, port)) = anvil() else { return };
    let wire = b"seqrec send-error test batch";

    // The answer to the send is lost: the adapter finds the transaction by its hash.
    // The core's bid, signed as it is (docs/protocol.md §11.1).
    let bid = Some(machine::Bid::new(machine::Wei(20_000_000_000), machine::Wei(1_000_000_000)));
    let sent = adapter(lossy_proxy(port)).send_batch(31337, WalletNonce(0), wire, bid, None).unwrap();
    assert_eq!(sent.bid, bid);
    assert!(sent.gas_limit.is_some_and(|gas| gas >= machine::min_gas(wire)), "{sent:?}");
    let hash = format!("0x{}", sent.tx_hash.0.iter().map(|byte| format!("{byte:02x}")).collect::<String>());
    let found = anvil_call(port, "eth_getTransactionByHash", &format!(r#"["{hash}"]"#));
    assert!(found.contains(&hash), "{found}");

    // A restarted process signs the same send again: the node already has it.
    assert_eq!(adapter(port).send_batch(31337, WalletNonce(0), wire, bid, None).unwrap(), sent);

    // Once it is mined, other content at that nonce is refused as a used nonce.
    let mined = anvil_call(port, "evm_mine", "[]");
    assert!(mined.contains("\"result\""), "{mined}");
    match adapter(port).send_batch(31337, WalletNonce(0), b"other content", bid, None) {
        Err(error @ SendError::Node { class: SendClass::NonceTooLow, .. }) => {
            assert_eq!(error.class(), Some(SendClass::NonceTooLow));
            assert!(error.to_string().starts_with("nonce_too_low: nonce too low"), "{error}");
        }
        other => panic!("expected nonce_too_low, got {other:?}"),
    }
}
