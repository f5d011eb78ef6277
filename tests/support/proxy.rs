//! A fault-injecting HTTP proxy between envc and moto: it fails, delays, drops or rewrites
//! chosen responses, to produce states moto cannot (ROLLBACK_COMPLETE, throttling, 5xx, …).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub enum Fault {
    /// Answer with this HTTP status and body instead of asking moto.
    Respond(u16, String),
    /// Close the connection without answering.
    Drop,
    /// Ask moto, then close the connection without answering: the request was done, and
    /// its answer lost.
    Lose,
    /// Ask moto, but answer only after this long.
    Delay(Duration),
    /// Ask moto and rewrite the body of its answer.
    Rewrite(Arc<dyn Fn(&str) -> String + Send + Sync>),
    /// Answer with what this makes of the request's body, instead of asking moto (an API
    /// moto cannot serve).
    Answer(Arc<dyn Fn(&str) -> String + Send + Sync>),
}

pub struct Rule {
    /// The action (like `DescribeStacks`, or ECS's `DescribeServices`); `*` for any request.
    pub action: &'static str,
    /// Only requests naming this stack.
    pub stack: Option<String>,
    /// How many matching requests it applies to.
    pub times: usize,
    /// Stops applying once a request with this action has passed.
    pub until: Option<&'static str>,
    /// Only requests whose body holds this text.
    pub body_has: Option<String>,
    pub fault: Fault,
}

impl Rule {
    pub fn new(action: &'static str, fault: Fault) -> Rule {
        Rule {
            action,
            stack: None,
            times: usize::MAX,
            until: None,
            body_has: None,
            fault,
        }
    }
    pub fn stack(mut self, stack: &str) -> Rule {
        self.stack = Some(stack.to_string());
        self
    }
    pub fn times(mut self, times: usize) -> Rule {
        self.times = times;
        self
    }
    pub fn body_has(mut self, text: &str) -> Rule {
        self.body_has = Some(text.to_string());
        self
    }
    pub fn until(mut self, action: &'static str) -> Rule {
        self.until = Some(action);
        self
    }
}

pub struct Proxy {
    pub port: u16,
    rules: Arc<Mutex<Vec<Rule>>>,
    /// Every request's action, in order, and whether a fault was applied.
    pub seen: Arc<Mutex<Vec<(String, bool)>>>,
    /// The bodies of the requests answered by [`Fault::Answer`], with their actions.
    pub answered: Arc<Mutex<Vec<(String, String)>>>,
}

impl Proxy {
    pub fn start(upstream: u16, rules: Vec<Rule>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let rules = Arc::new(Mutex::new(rules));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answered = Arc::new(Mutex::new(Vec::new()));
        let (shared_rules, shared_seen, shared_answered) =
            (rules.clone(), seen.clone(), answered.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (rules, seen, answered) = (
                    shared_rules.clone(),
                    shared_seen.clone(),
                    shared_answered.clone(),
                );
                std::thread::spawn(move || {
                    let _ = serve(client, upstream, &rules, &seen, &answered);
                });
            }
        });
        Proxy {
            port,
            rules,
            seen,
            answered,
        }
    }

    /// The bodies of the `action` requests answered by [`Fault::Answer`].
    pub fn answered(&self, action: &str) -> Vec<String> {
        self.answered
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, body)| body.clone())
            .collect()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn faults_applied(&self, action: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, f)| a == action && *f)
            .count()
    }

    pub fn requests(&self, action: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .count()
    }

    pub fn set_rules(&self, rules: Vec<Rule>) {
        *self.rules.lock().unwrap() = rules;
    }
}

struct Request {
    head: String,
    body: Vec<u8>,
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = header(&head, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(Request { head, body }))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

pub fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.replace("%2F", "/").replace("%3A", ":"))
    })
}

fn serve(
    mut client: TcpStream,
    upstream: u16,
    rules: &Mutex<Vec<Rule>>,
    seen: &Mutex<Vec<(String, bool)>>,
    answered: &Mutex<Vec<(String, String)>>,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    while let Some(request) = read_request(&mut client)? {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        // Query APIs (CloudFormation, STS) name the action in the form; JSON APIs (ECS,
        // CloudWatch Logs) in `X-Amz-Target: Service.Action`.
        let action = form_value(&body, "Action")
            .or_else(|| {
                let target = header(&request.head, "x-amz-target")?;
                target.rsplit('.').next().map(str::to_string)
            })
            .unwrap_or_else(|| "?".to_string());
        let stack = form_value(&body, "StackName");
        let fault = {
            let mut rules = rules.lock().unwrap();
            rules.retain(|r| r.until != Some(action.as_str()));
            let index = rules.iter().position(|r| {
                r.times > 0
                    && (r.action == "*" || r.action == action)
                    && (r.stack.is_none() || r.stack == stack)
                    && r.body_has
                        .as_ref()
                        .is_none_or(|text| body.contains(text.as_str()))
            });
            index.map(|i| {
                rules[i].times -= 1;
                rules[i].fault.clone()
            })
        };
        seen.lock().unwrap().push((action.clone(), fault.is_some()));
        match fault {
            Some(Fault::Drop) => return Ok(()),
            Some(Fault::Lose) => {
                forward(&request, upstream)?;
                return Ok(());
            }
            Some(Fault::Respond(code, text)) => {
                write_response(&mut client, code, &text)?;
                continue;
            }
            Some(Fault::Answer(answer)) => {
                answered
                    .lock()
                    .unwrap()
                    .push((action.clone(), body.clone()));
                write_response(&mut client, 200, &answer(&body))?;
            }
            Some(Fault::Delay(delay)) => {
                std::thread::sleep(delay);
                let (code, text) = forward(&request, upstream)?;
                write_response(&mut client, code, &text)?;
            }
            Some(Fault::Rewrite(rewrite)) => {
                let (code, text) = forward(&request, upstream)?;
                write_response(&mut client, code, &rewrite(&text))?;
            }
            None => {
                let (code, text) = forward(&request, upstream)?;
                write_response(&mut client, code, &text)?;
            }
        }
    }
    Ok(())
}

/// Sends the request to moto and returns its status and body.
fn forward(request: &Request, upstream: u16) -> std::io::Result<(u16, String)> {
    let mut server = TcpStream::connect(("127.0.0.1", upstream))?;
    let head: String = request
        .head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    server.write_all(head.as_bytes())?;
    server.write_all(b"\r\nConnection: close\r\n\r\n")?;
    server.write_all(&request.body)?;
    let mut response = Vec::new();
    server.read_to_end(&mut response)?;
    let head_end = find(&response, b"\r\n\r\n").unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..head_end]).into_owned();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(502);
    let mut body = response.get(head_end + 4..).unwrap_or_default().to_vec();
    if header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body);
    }
    Ok((code, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find(body, b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&body[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    out
}

fn write_response(client: &mut TcpStream, code: u16, body: &str) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    write!(
        client,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    client.flush()
}

/// An answer made from the request's body.
pub fn answer(f: impl Fn(&str) -> String + Send + Sync + 'static) -> Fault {
    Fault::Answer(Arc::new(f))
}

/// A rewrite of response bodies.
pub fn rewrite(f: impl Fn(&str) -> String + Send + Sync + 'static) -> Fault {
    Fault::Rewrite(Arc::new(f))
}

/// A CloudFormation error response, as AWS's query protocol writes it.
pub fn aws_error(code: &str, message: &str) -> String {
    format!("<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>proxy</RequestId></ErrorResponse>")
}
