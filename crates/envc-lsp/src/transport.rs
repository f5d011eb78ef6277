//! The server's standard input and output: messages framed by `Content-Length`, as the
//! protocol says.
//!
//! Unlike lsp-server's own stdio transport, a message that is not JSON gets a ParseError
//! answer, and one that is JSON but no JSON-RPC message an InvalidRequest answer, and the
//! server reads on: one malformed message from an editor's plugin does not end it. No answer
//! repeats what the message held (it may hold a credential). Messages are read as they
//! arrive, so a `$/cancelRequest` reaches a request still waiting behind slower work.

use std::io::{self, BufRead, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use lsp_server::{Connection, Message};

/// The largest message read; a larger one is skipped and refused (an editor sends a whole
/// buffer in one message: a few megabytes at most).
const MAX_MESSAGE: usize = 128 * 1024 * 1024;

/// The threads that read standard input and write standard output.
pub struct IoThreads {
    reader: JoinHandle<()>,
    writer: JoinHandle<io::Result<()>>,
}

impl IoThreads {
    /// Waits for both: the reader ends after `exit` or at the end of input, the writer once
    /// every sender is gone.
    pub fn join(self) -> Result<(), String> {
        self.reader
            .join()
            .map_err(|_| "the reader thread panicked".to_string())?;
        match self.writer.join() {
            Ok(written) => written.map_err(|e| e.to_string()),
            Err(_) => Err("the writer thread panicked".to_string()),
        }
    }
}

/// A connection over standard input and output.
pub fn stdio() -> (Connection, IoThreads) {
    let stdout = Arc::new(Mutex::new(io::stdout()));
    let (to_client, outgoing) = crossbeam_channel::unbounded::<Message>();
    let (incoming, from_client) = crossbeam_channel::unbounded::<Message>();
    let writer = {
        let stdout = stdout.clone();
        std::thread::spawn(move || {
            for message in outgoing {
                let mut out = stdout.lock().unwrap_or_else(|p| p.into_inner());
                message.write(&mut *out)?;
            }
            Ok(())
        })
    };
    let reader = std::thread::spawn(move || {
        let stdin = io::stdin();
        read_messages(&mut stdin.lock(), &incoming, &mut |answer| {
            let mut out = stdout.lock().unwrap_or_else(|p| p.into_inner());
            let _ = write_raw(&mut *out, &answer);
        });
    });
    let connection = Connection {
        sender: to_client,
        receiver: from_client,
    };
    (connection, IoThreads { reader, writer })
}

/// Reads framed messages from `input` until `exit` or the end of input, sending each to
/// `incoming`; a message that cannot be taken is answered through `refuse`.
pub fn read_messages(
    input: &mut impl BufRead,
    incoming: &crossbeam_channel::Sender<Message>,
    refuse: &mut impl FnMut(serde_json::Value),
) {
    loop {
        let length = match content_length(input) {
            Ok(Some(length)) => length,
            // The end of input, or framing that cannot be followed: no later message
            // could be found either.
            Ok(None) | Err(_) => return,
        };
        if length > MAX_MESSAGE {
            let skipped = io::copy(&mut input.by_ref().take(length as u64), &mut io::sink());
            refuse(error(
                None,
                -32600,
                "the message is larger than envc reads (128 MiB)",
            ));
            if skipped.is_err() {
                return;
            }
            continue;
        }
        let mut body = vec![0; length];
        if input.read_exact(&mut body).is_err() {
            return;
        }
        match serde_json::from_slice::<Message>(&body) {
            // A request whose id is no JSON-RPC id (an object, a fraction, a number past
            // what lsp-server keeps, `null`) reads as a notification: it is refused instead,
            // as the request it was meant to be, so the client is not left waiting.
            Ok(Message::Notification(_)) if has_id(&body) => refuse(error(
                None,
                -32600,
                "the request's id is not a JSON-RPC id (a number or a string)",
            )),
            Ok(message) => {
                let is_exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if incoming.send(message).is_err() || is_exit {
                    return;
                }
            }
            Err(_) => refuse(refusal(&body)),
        }
    }
}

/// Whether a message has an `id` member (a notification has none).
fn has_id(body: &[u8]) -> bool {
    memchr::memmem::find(body, b"\"id\"").is_some()
        && serde_json::from_slice::<serde_json::Value>(body)
            .is_ok_and(|value| value.get("id").is_some())
}

/// The answer to a message that is not one the protocol has.
fn refusal(body: &[u8]) -> serde_json::Value {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Err(_) => error(None, -32700, "the message is not JSON"),
        Ok(value) => {
            // Answer with the request's id when it has a usable one.
            let id = value
                .get("id")
                .filter(|id| id.is_number() || id.is_string())
                .cloned();
            error(
                id,
                -32600,
                "the message is not a JSON-RPC request, notification or response",
            )
        }
    }
}

fn error(id: Option<serde_json::Value>, code: i32, message: &str) -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    })
}

fn write_raw(out: &mut impl Write, value: &serde_json::Value) -> io::Result<()> {
    let body = value.to_string();
    write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    out.flush()
}

/// The `Content-Length` of the next message's header; `None` at the end of input.
fn content_length(input: &mut impl BufRead) -> io::Result<Option<usize>> {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        // A header line longer than this is no header.
        if input.by_ref().take(4096).read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if length.is_some() {
                return Ok(length);
            }
            // Blank lines before a header are skipped.
            continue;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse().map_err(io::Error::other)?);
            }
        } else {
            return Err(io::Error::other("not a header line"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn malformed_messages_are_answered_and_reading_goes_on() {
        let input = [
            frame("{not json AKIAABCDEFGHIJKLMNOP"),
            frame(r#"{"id": 7, "jsonrpc": "2.0", "params": 1}"#),
            frame(r#"{"jsonrpc": "2.0", "method": "initialized", "params": {}}"#),
            frame(r#"{"jsonrpc": "2.0", "method": "exit"}"#),
            frame(r#"{"jsonrpc": "2.0", "method": "after-exit"}"#),
        ]
        .concat();
        let (incoming, received) = crossbeam_channel::unbounded();
        let mut refused = Vec::new();
        read_messages(&mut input.as_bytes(), &incoming, &mut |v| refused.push(v));
        let methods: Vec<String> = received
            .try_iter()
            .map(|m| match m {
                Message::Notification(n) => n.method,
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(methods, ["initialized", "exit"]);
        assert_eq!(refused[0]["error"]["code"], -32700);
        assert_eq!(refused[0]["id"], serde_json::Value::Null);
        assert_eq!(refused[1]["error"]["code"], -32600);
        assert_eq!(refused[1]["id"], 7);
        assert!(!serde_json::to_string(&refused).unwrap().contains("AKIA"));
    }
}
