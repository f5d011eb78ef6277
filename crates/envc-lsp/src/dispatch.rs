//! Requests to answers: each method to its handler, its parameters parsed into the
//! protocol's type, and every way a request can fail turned into the protocol's error
//! answer (InvalidParams, MethodNotFound, InternalError for a bug, caught as a panic).

use lsp_server::{Request, Response};

use super::{actions, complete, hover, navigate, Server};

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

    /// The answer to one request, as JSON.
    pub fn handle_json(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, Refusal> {
        use lsp_types::request::{
            CodeActionRequest, Completion, Formatting, GotoDefinition, HoverRequest, References,
            Request as _,
        };
        fn params_of<P: serde::de::DeserializeOwned>(
            method: &str,
            params: serde_json::Value,
        ) -> Result<P, Refusal> {
            serde_json::from_value(params).map_err(|e| Refusal {
                code: lsp_server::ErrorCode::InvalidParams,
                message: unlike_the_protocol(method, &e),
            })
        }
        let json = |value: serde_json::Result<serde_json::Value>| {
            value.map_err(|e| Refusal {
                code: lsp_server::ErrorCode::InternalError,
                message: e.to_string(),
            })
        };
        match method {
            HoverRequest::METHOD => json(serde_json::to_value(hover::hover(
                self,
                &params_of(method, params)?,
            ))),
            Completion::METHOD => json(serde_json::to_value(complete::complete(
                self,
                &params_of(method, params)?,
            ))),
            GotoDefinition::METHOD => json(serde_json::to_value(navigate::definition(
                self,
                &params_of(method, params)?,
            ))),
            References::METHOD => json(serde_json::to_value(navigate::references(
                self,
                &params_of(method, params)?,
            ))),
            CodeActionRequest::METHOD => json(serde_json::to_value(actions::code_actions(
                self,
                &params_of(method, params)?,
            ))),
            Formatting::METHOD => {
                let p: lsp_types::DocumentFormattingParams = params_of(method, params)?;
                json(serde_json::to_value(self.formatting(&p.text_document.uri)))
            }
            // Tests check that a bug in one answer does not end the server.
            crash if std::env::var("ENVC_LSP_TEST_PANIC").is_ok_and(|m| m == crash) => {
                panic!("`{crash}` panics on purpose (ENVC_LSP_TEST_PANIC)")
            }
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
