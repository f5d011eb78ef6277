//! Requests to answers: each request type of the protocol to its handler, which takes a
//! snapshot of the server's state and the request's typed parameters, and every way a
//! request can fail turned into the protocol's error answer (InvalidParams, MethodNotFound,
//! InternalError for a bug, caught as a panic).

use lsp_server::{Request, Response};
use lsp_types::request::{
    CodeActionRequest, Completion, Formatting, GotoDefinition, HoverRequest, References,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{actions, complete, hover, navigate, Server, Snapshot};

impl Server {
    /// The answer to one request. A panic while answering is a bug: it becomes an error
    /// answer and a line in the editor's log, and the server goes on.
    pub(super) fn answer(&self, request: Request) -> Response {
        let id = request.id.clone();
        // What is shown of the request goes through the redactor, like all envc output.
        let method = self.analysis.mask(&request.method);
        let answered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.handle_json(&request.method, request.params)
        }));
        match answered {
            Ok(Ok(result)) => Response::new_ok(id, result),
            Ok(Err(refused)) => Response::new_err(
                id,
                refused.code as i32,
                self.analysis.mask(&refused.message),
            ),
            Err(panic) => {
                let text = self.analysis.mask(&panic_text(&*panic));
                eprintln!("envc lsp: a bug in answering `{method}`: {text}");
                Response::new_err(
                    id,
                    lsp_server::ErrorCode::InternalError as i32,
                    format!("envc hit a bug answering `{method}` ({text}); please report it"),
                )
            }
        }
    }

    /// The answer to one request, as JSON, from a snapshot of the server's state.
    pub fn handle_json(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, Refusal> {
        let snapshot = self.snapshot();
        RequestDispatcher::new(&snapshot, method, params)
            .on::<HoverRequest>(|snapshot, params| hover::hover(snapshot, &params))
            .on::<Completion>(|snapshot, params| complete::complete(snapshot, &params))
            .on::<GotoDefinition>(|snapshot, params| navigate::definition(snapshot, &params))
            .on::<References>(|snapshot, params| navigate::references(snapshot, &params))
            .on::<CodeActionRequest>(|snapshot, params| actions::code_actions(snapshot, &params))
            .on::<Formatting>(|snapshot, params| snapshot.formatting(&params.text_document.uri))
            .finish()
    }
}

/// One request on its way to the handler of its type (rust-analyzer's `RequestDispatcher`):
/// each `on` names a request type of the protocol and a handler of its parameters' type
/// returning its result's type, so a handler cannot answer with another request's shape.
struct RequestDispatcher<'a> {
    snapshot: &'a Snapshot<'a>,
    method: &'a str,
    /// Taken by the handler whose request type has this method.
    params: Option<serde_json::Value>,
    answer: Option<Result<serde_json::Value, Refusal>>,
}

impl<'a> RequestDispatcher<'a> {
    fn new(snapshot: &'a Snapshot<'a>, method: &'a str, params: serde_json::Value) -> Self {
        RequestDispatcher {
            snapshot,
            method,
            params: Some(params),
            answer: None,
        }
    }

    /// Answers with `handler` when the request is an `R`; parameters unlike `R`'s are
    /// refused as InvalidParams.
    fn on<R>(mut self, handler: fn(&Snapshot, R::Params) -> R::Result) -> Self
    where
        R: lsp_types::request::Request,
        R::Params: DeserializeOwned,
        R::Result: Serialize,
    {
        if self.method != R::METHOD || self.answer.is_some() {
            return self;
        }
        let params = self.params.take().unwrap_or_default();
        let answer = serde_json::from_value::<R::Params>(params)
            .map_err(|problem| Refusal {
                code: lsp_server::ErrorCode::InvalidParams,
                message: unlike_the_protocol(R::METHOD, &problem),
            })
            .and_then(|params| {
                serde_json::to_value(handler(self.snapshot, params)).map_err(|e| Refusal {
                    code: lsp_server::ErrorCode::InternalError,
                    message: e.to_string(),
                })
            });
        self.answer = Some(answer);
        self
    }

    /// The answer, or MethodNotFound when no handler took the request.
    fn finish(self) -> Result<serde_json::Value, Refusal> {
        if let Some(answer) = self.answer {
            return answer;
        }
        match self.method {
            // Tests check that a bug in one answer does not end the server.
            crash if std::env::var("ENVC_LSP_TEST_PANIC").is_ok_and(|m| m == crash) => {
                panic!("`{crash}` panics on purpose (ENVC_LSP_TEST_PANIC)")
            }
            "initialize" => Err(Refusal {
                code: lsp_server::ErrorCode::InvalidRequest,
                message: "the server is initialized already: `initialize` is sent once".to_string(),
            }),
            other => Err(Refusal {
                code: lsp_server::ErrorCode::MethodNotFound,
                message: format!("envc does not answer `{other}`"),
            }),
        }
    }
}

/// Why a request gets no result: the protocol's error code and a message.
#[derive(Debug)]
pub struct Refusal {
    pub code: lsp_server::ErrorCode,
    pub message: String,
}

/// Why parameters were refused, without repeating them (they may hold a credential).
pub(super) fn unlike_the_protocol(method: &str, problem: &serde_json::Error) -> String {
    format!(
        "the parameters of `{method}` are not what the protocol says ({:?} problem at line {}, column {})",
        problem.classify(),
        problem.line(),
        problem.column()
    )
}

/// What a caught panic said.
pub(super) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
}
