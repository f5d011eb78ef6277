//! `envc lsp`: a language server over stdio for a project's `.kdl` files.
//!
//! Every change of a buffer runs the pipeline on the buffers as they are (saved or not)
//! through validation and sends every file's problems; rendering and the golden-file
//! comparison then run on a thread of their own and send the complete set, unless the
//! buffers changed meanwhile. Hover, completion, navigation and code actions read the
//! latest validated run. Built on `lsp-server`, rust-analyzer's synchronous protocol
//! layer: envc's pipeline is synchronous, so the server needs no async runtime.

mod actions;
mod analysis;
mod complete;
mod dispatch;
mod hover;
mod navigate;
pub mod position;
mod publish;
mod snapshot;
pub mod transport;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lsp_server::{Connection, Message, Notification, Response};
use lsp_types::{
    CodeActionProviderCapability, CompletionOptions, HoverProviderCapability, InitializeParams,
    OneOf, PositionEncodingKind, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind,
};

pub use analysis::Analysis;
pub use dispatch::Refusal;
use dispatch::{panic_text, unlike_the_protocol};
pub use position::Encoding;
use publish::Published;
pub use snapshot::{Document, Snapshot};

use envc_core::parse::Overlay;
use envc_core::Stages;

/// Serves the protocol on standard input and output until the client says `exit`.
pub fn serve_stdio(fallback_root: &Path) -> Result<Ended, String> {
    let (connection, io_threads) = transport::stdio();
    let served = serve(connection, fallback_root);
    let joined = io_threads.join();
    joined.and(served)
}

/// How the client ended the session. The protocol asks a server to exit with 0 after
/// `shutdown` then `exit`, and with 1 after an `exit` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    AfterShutdown,
    WithoutShutdown,
}

/// Serves the protocol on `connection`; the project is the client's root folder, or
/// `fallback_root`.
pub fn serve(connection: Connection, fallback_root: &Path) -> Result<Ended, String> {
    let Some((id, params)) = initialize(&connection)? else {
        // `exit` before `initialize`: the protocol's exit without `shutdown`.
        return Ok(Ended::WithoutShutdown);
    };
    let encoding = chosen_encoding(&params);
    let root = client_root(&params).unwrap_or_else(|| fallback_root.to_path_buf());
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    let result = serde_json::json!({
        "capabilities": capabilities(encoding),
        "serverInfo": { "name": "envc", "version": env!("CARGO_PKG_VERSION") },
    });
    connection
        .initialize_finish(id, result)
        .map_err(handshake_problem)?;
    Server::new(connection, root, encoding, true).run()
}

/// The client's `initialize` request, or none when the client says `exit` first. Another
/// request first is answered ServerNotInitialized (without repeating it: its parameters may
/// hold a credential); one whose parameters are not the protocol's is answered
/// InvalidParams; either way the server waits for another.
fn initialize(
    connection: &Connection,
) -> Result<Option<(lsp_server::RequestId, InitializeParams)>, String> {
    loop {
        let message = connection
            .receiver
            .recv()
            .map_err(|_| "the client left before `initialize`".to_string())?;
        let refused = match message {
            Message::Request(request) if request.method == "initialize" => {
                match serde_json::from_value::<InitializeParams>(request.params) {
                    Ok(params) => return Ok(Some((request.id, params))),
                    Err(problem) => Response::new_err(
                        request.id,
                        lsp_server::ErrorCode::InvalidParams as i32,
                        unlike_the_protocol("initialize", &problem),
                    ),
                }
            }
            Message::Request(request) => Response::new_err(
                request.id,
                lsp_server::ErrorCode::ServerNotInitialized as i32,
                format!(
                    "`{}` before `initialize`: initialize the server first",
                    request.method
                ),
            ),
            Message::Notification(notification) if notification.method == "exit" => {
                return Ok(None)
            }
            Message::Notification(_) | Message::Response(_) => continue,
        };
        let _ = connection.sender.send(Message::Response(refused));
    }
}

/// What went wrong in the opening handshake, without the message that caused it: lsp-server
/// writes the whole message into its error, parameters and all, and they may hold a
/// credential.
fn handshake_problem(problem: lsp_server::ProtocolError) -> String {
    let text = problem.to_string();
    match text.split_once(", got") {
        Some((expected, _)) => format!("{expected}, got another message"),
        None => text,
    }
}

fn chosen_encoding(params: &InitializeParams) -> Encoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}

#[allow(deprecated)] // `root_uri`: older clients send only it.
fn client_root(params: &InitializeParams) -> Option<PathBuf> {
    let folder = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| &f.uri);
    position::path_of(folder.or(params.root_uri.as_ref())?)
}

fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match encoding {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(["{", "$", " ", "\"", "="].map(String::from).to_vec()),
            ..CompletionOptions::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// The server's state: the buffers, the latest validated run, and what was sent.
pub struct Server {
    connection: Connection,
    root: PathBuf,
    encoding: Encoding,
    /// Open buffers of project files, by path relative to the root.
    overlay: Overlay,
    /// Open buffers outside the project (only formatted), by absolute path.
    loose: std::collections::BTreeMap<PathBuf, String>,
    analysis: Analysis,
    /// The last run in which every file parsed, while a buffer has a syntax error (as one
    /// being typed usually has): what completion knows of the environments meanwhile.
    fallback: Option<Analysis>,
    published: Arc<Mutex<Published>>,
    full_checks: crossbeam_channel::Sender<FullCheckRequest>,
}

/// Buffers to check fully, of the project in `root`, as of `generation`.
struct FullCheckRequest {
    generation: u64,
    root: PathBuf,
    overlay: Overlay,
}

impl Server {
    /// A server of the project in `root`, answering on `connection`. With `background`, each
    /// change is followed by a full check on a thread of its own (benchmarks of the
    /// validation alone go without).
    pub fn new(
        connection: Connection,
        root: PathBuf,
        encoding: Encoding,
        background: bool,
    ) -> Server {
        let published = Arc::new(Mutex::new(Published::default()));
        let (full_checks, requests) = crossbeam_channel::unbounded();
        if background {
            let worker = FullCheck {
                encoding,
                sender: connection.sender.clone(),
                published: published.clone(),
            };
            std::thread::spawn(move || worker.run(requests));
        }
        let overlay = Overlay::new();
        let analysis = Analysis::run(&root, &overlay, Stages::Validate);
        let server = Server {
            connection,
            root,
            encoding,
            overlay,
            loose: Default::default(),
            analysis,
            fallback: None,
            published,
            full_checks,
        };
        server.check_fully(server.publish());
        server
    }

    fn check_fully(&self, generation: u64) {
        let _ = self.full_checks.send(FullCheckRequest {
            generation,
            root: self.root.clone(),
            overlay: self.overlay.clone(),
        });
    }

    /// When the editor's folder is not an envc project (a repository keeping one in
    /// `infra/`, say), the project of the first file opened inside one: the nearest folder
    /// above it with a `stacks.kdl`.
    fn find_project(&mut self, uri: &lsp_types::Uri) {
        if self.root.join("stacks.kdl").is_file() {
            return;
        }
        let Some(path) = position::path_of(uri) else {
            return;
        };
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        let found = path
            .ancestors()
            .skip(1)
            .find(|dir| dir.join("stacks.kdl").is_file() && dir.join("env").is_dir());
        if let Some(project) = found {
            self.root = project.to_path_buf();
            self.overlay.clear();
            self.fallback = None;
        }
    }

    /// Answers messages in the order they came until the client says `exit`. Messages that
    /// have arrived wait in `queue`, so a `$/cancelRequest` reaches a request still waiting.
    fn run(mut self) -> Result<Ended, String> {
        let mut queue = std::collections::VecDeque::new();
        let mut cancelled = std::collections::HashSet::new();
        loop {
            if queue.is_empty() {
                cancelled.clear();
                match self.connection.receiver.recv() {
                    Ok(message) => queue.push_back(message),
                    Err(_) => return Ok(Ended::WithoutShutdown),
                }
            }
            while let Ok(message) = self.connection.receiver.try_recv() {
                match cancellation(&message) {
                    Some(id) => {
                        cancelled.insert(id);
                    }
                    None => queue.push_back(message),
                }
            }
            let Some(message) = queue.pop_front() else {
                continue;
            };
            match message {
                Message::Request(request) if request.method == "shutdown" => {
                    let done = Response::new_ok(request.id, serde_json::Value::Null);
                    let _ = self.connection.sender.send(Message::Response(done));
                    return self.shut_down(queue);
                }
                Message::Notification(n) if n.method == "exit" => {
                    return Ok(Ended::WithoutShutdown);
                }
                Message::Request(request) => {
                    let response = if cancelled.remove(&request.id) {
                        Response::new_err(
                            request.id,
                            lsp_server::ErrorCode::RequestCanceled as i32,
                            "cancelled by the client".to_string(),
                        )
                    } else {
                        self.answer(request)
                    };
                    let _ = self.connection.sender.send(Message::Response(response));
                }
                Message::Notification(notification) => {
                    let method = notification.method.clone();
                    let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.notified(notification)
                    }));
                    if let Err(panic) = handled {
                        eprintln!(
                            "envc lsp: a bug in handling `{method}`: {}",
                            panic_text(&*panic)
                        );
                    }
                }
                Message::Response(_) => {}
            }
        }
    }

    /// After `shutdown`: waits for `exit`, refusing every request meanwhile.
    fn shut_down(self, queue: std::collections::VecDeque<Message>) -> Result<Ended, String> {
        let waiting = queue.into_iter().map(Ok);
        let arriving = std::iter::from_fn(|| Some(self.connection.receiver.recv()));
        for message in waiting.chain(arriving) {
            match message {
                Ok(Message::Notification(n)) if n.method == "exit" => {
                    return Ok(Ended::AfterShutdown)
                }
                Ok(Message::Request(request)) => {
                    let refused = Response::new_err(
                        request.id,
                        lsp_server::ErrorCode::InvalidRequest as i32,
                        "the server is shutting down".to_string(),
                    );
                    let _ = self.connection.sender.send(Message::Response(refused));
                }
                Ok(_) => {}
                // Gone after `shutdown`: as orderly an end as `exit`.
                Err(_) => return Ok(Ended::AfterShutdown),
            }
        }
        Ok(Ended::AfterShutdown)
    }

    fn notified(&mut self, notification: Notification) {
        use lsp_types::notification::{
            DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
            Notification as _,
        };
        let params = notification.params;
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(params)
                {
                    self.set_buffer(&p.text_document.uri, Some(p.text_document.text));
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(params)
                {
                    // Full synchronisation: the last change is the whole text.
                    if let Some(change) = p.content_changes.into_iter().last() {
                        self.set_buffer(&p.text_document.uri, Some(change.text));
                    }
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(params)
                {
                    self.set_buffer(&p.text_document.uri, None);
                }
            }
            DidSaveTextDocument::METHOD => self.changed(),
            _ => {}
        }
    }

    /// A buffer opened or changed (`Some`), or closed (`None`: the file on disk counts again).
    pub fn set_buffer(&mut self, uri: &lsp_types::Uri, text: Option<String>) {
        if text.is_some() {
            self.find_project(uri);
        }
        match (snapshot::project_path(&self.root, uri), text) {
            (Some(relative), Some(text)) => {
                self.overlay.insert(relative, text);
            }
            (Some(relative), None) => {
                self.overlay.remove(&relative);
            }
            (None, text) => {
                if let Some(path) = position::path_of(uri) {
                    match text {
                        Some(text) => self.loose.insert(path, text),
                        None => self.loose.remove(&path),
                    };
                }
                return;
            }
        }
        self.changed();
    }

    /// Runs validation on the buffers, sends its problems, and asks for the full check.
    fn changed(&mut self) {
        let latest = Analysis::run(&self.root, &self.overlay, Stages::Validate);
        let broken = latest.checked.diagnostics.iter().any(|d| {
            matches!(
                d.code,
                envc_core::diagnostic::Code::Syntax | envc_core::diagnostic::Code::TooDeep
            )
        });
        let previous = std::mem::replace(&mut self.analysis, latest);
        let done_with = if !broken {
            self.fallback.take().into_iter().chain([previous]).collect()
        } else if self.fallback.is_none() {
            self.fallback = Some(previous);
            Vec::new()
        } else {
            vec![previous]
        };
        // Taking a run apart costs as much as a tenth of making it: not while the editor waits.
        rayon::spawn(move || drop(done_with));
        let generation = self.publish();
        self.check_fully(generation);
    }

    /// The state a request is answered from, borrowed for the time of one answer.
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            analysis: &self.analysis,
            fallback: self.fallback.as_ref(),
            root: &self.root,
            encoding: self.encoding,
            overlay: &self.overlay,
            loose: &self.loose,
            resource_types: self
                .published
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .resource_types
                .clone(),
        }
    }

    fn publish(&self) -> u64 {
        let found = publish::by_file(&self.analysis, self.encoding);
        let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
        published.generation += 1;
        published.send(&self.connection.sender, found);
        published.generation
    }
}

/// The id of the request a `$/cancelRequest` notification cancels.
fn cancellation(message: &Message) -> Option<lsp_server::RequestId> {
    match message {
        Message::Notification(n) if n.method == "$/cancelRequest" => {
            serde_json::from_value(n.params.get("id")?.clone()).ok()
        }
        _ => None,
    }
}

/// The thread that renders and compares golden files after a change, and sends the
/// complete problems unless the buffers changed meanwhile.
struct FullCheck {
    encoding: Encoding,
    sender: crossbeam_channel::Sender<Message>,
    published: Arc<Mutex<Published>>,
}

impl FullCheck {
    fn run(self, requests: crossbeam_channel::Receiver<FullCheckRequest>) {
        while let Ok(mut latest) = requests.recv() {
            // Only the newest buffers are worth checking.
            while let Ok(newer) = requests.try_recv() {
                latest = newer;
            }
            let analysis = Analysis::run(&latest.root, &latest.overlay, Stages::Check);
            let found = publish::by_file(&analysis, self.encoding);
            let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
            if published.generation == latest.generation {
                published.send(&self.sender, found);
            }
            published.resource_types = Arc::new(resource_types_of(&analysis));
        }
    }
}

/// The type of each resource `analysis` rendered.
fn resource_types_of(analysis: &Analysis) -> publish::ResourceTypes {
    analysis
        .checked
        .rendered
        .iter()
        .flat_map(|env| env.stacks.iter().map(move |stack| (env, stack)))
        .flat_map(|(env, stack)| {
            stack.template.resources.iter().map(move |(id, kind)| {
                (
                    (env.name.clone(), stack.stack.clone(), id.clone()),
                    kind.clone(),
                )
            })
        })
        .collect()
}
