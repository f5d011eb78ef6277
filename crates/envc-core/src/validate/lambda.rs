//! What Lambda takes of a Lambda worker that the schema cannot say alone: its SQS trigger's
//! batching against its queue, the names of the variables its function gets, its handler,
//! and a runtime its placeholder code can be written in.
//!
//! AWS's rules (Lambda's `CreateEventSourceMapping`, `Environment` and `CreateFunction`):
//! - a FIFO queue's trigger takes batches of at most 10 and no batching window; a standard
//!   queue's takes more than 10 only with a window of at least a second;
//! - a variable's name is `[a-zA-Z]([a-zA-Z0-9_])+`, and not one Lambda sets itself;
//! - a handler is up to 128 characters without white space;
//! - code inline in the template (`Code.ZipFile`, the placeholder envc creates a function
//!   with, until CI deploys its code) is for Node.js and Python runtimes only.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{EnvValue, Environment, Queue, Worker, WorkerRuntime};
use crate::resolve::path;

use super::EnvSpans;

/// The variables Lambda sets in every function, which a function's configuration may not.
const RESERVED: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
];

/// The most messages a FIFO queue's trigger takes in a batch.
const FIFO_BATCH: u32 = 10;
/// The longest handler Lambda takes.
const MAX_HANDLER: usize = 128;

pub(super) fn check_lambda_workers(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    for (name, worker) in &env.worker {
        if worker.runtime != WorkerRuntime::Lambda {
            continue;
        }
        if let Some(queue) = env.queue.get(&worker.queue) {
            check_batching(name, worker, queue, at, out);
        }
        check_variables(name, worker, at, out);
        check_handler(name, worker, at, out);
        check_placeholder_runtime(name, worker, at, out);
    }
}

/// The runtimes CloudFormation creates a function with code inline in the template for.
const INLINE_CODE_RUNTIMES: &[&str] = &["nodejs", "python"];

fn check_placeholder_runtime(
    name: &str,
    worker: &Worker,
    at: &EnvSpans,
    out: &mut Vec<Diagnostic>,
) {
    let runtime = worker.lambda_runtime.as_str();
    if INLINE_CODE_RUNTIMES
        .iter()
        .any(|family| runtime.starts_with(family))
    {
        return;
    }
    let pointer = path::pointer(&["worker", name, "lambda-runtime"]);
    out.push(at.note_inherited(
        &pointer,
        Diagnostic::error(
            Code::AwsRule,
            format!("worker `{name}`'s function cannot be created on `{runtime}`"),
        )
        .at(at.value(&pointer), "not Node.js or Python")
        .help(
            "envc creates a Lambda worker's function with placeholder code inline in its template (CI then deploys \
             the real code), and CloudFormation takes inline code only for Node.js and Python: use a `nodejs` or \
             `python` runtime, or `runtime \"fargate\"` with an image of the worker",
        ),
    ));
}

fn check_batching(
    name: &str,
    worker: &Worker,
    queue: &Queue,
    at: &EnvSpans,
    out: &mut Vec<Diagnostic>,
) {
    let size_pointer = path::pointer(&["worker", name, "batch-size"]);
    let window_pointer = path::pointer(&["worker", name, "batch-window"]);
    let queue_span = at.key(&path::pointer(&["queue", &worker.queue]));
    let size = worker.batch_size.unwrap_or(FIFO_BATCH);
    let problem = |pointer: &str, message: String, help: &str| {
        let diagnostic = Diagnostic::error(Code::AwsRule, message)
            .at(at.value(pointer), "set here")
            .also(queue_span, "the queue")
            .help(help.to_string());
        at.note_inherited(pointer, diagnostic)
    };
    if queue.fifo {
        if size > FIFO_BATCH {
            out.push(problem(
                &size_pointer,
                format!("worker `{name}` takes batches of {size} from FIFO queue `{}`, which gives at most {FIFO_BATCH}", worker.queue),
                "Lambda reads a FIFO queue in batches of 1 to 10: set `batch-size` to 10 or less",
            ));
        }
        if worker.batch_window.is_some() {
            out.push(problem(
                &window_pointer,
                format!(
                    "worker `{name}` has a batching window, which FIFO queue `{}` cannot have",
                    worker.queue
                ),
                "Lambda gathers no batches from a FIFO queue: remove `batch-window`",
            ));
        }
    } else if size > FIFO_BATCH && worker.batch_window.unwrap_or(0) == 0 {
        out.push(problem(
            &size_pointer,
            format!("worker `{name}` takes batches of {size} without a batching window"),
            "Lambda takes batches of more than 10 only while it gathers them: set `batch-window` to 1 second or more",
        ));
    }
}

/// One variable the function gets: its name, where it is set (the key of `pointer`, or its
/// value when the value is the name), and its value when the configuration holds it.
struct Variable {
    name: String,
    pointer: String,
    named_by_value: bool,
    value: Option<String>,
}

/// The variables a function gets: the queue's URL, `environment`, and where each secret is.
fn variables(name: &str, worker: &Worker) -> Vec<Variable> {
    let mut variables = vec![Variable {
        name: worker.queue_url_variable.clone(),
        pointer: path::pointer(&["worker", name, "queue-url-variable"]),
        named_by_value: true,
        value: None,
    }];
    for (key, value) in &worker.environment {
        variables.push(Variable {
            name: key.clone(),
            pointer: path::pointer(&["worker", name, "environment", key]),
            named_by_value: false,
            value: match value {
                EnvValue::Text(text) => Some(text.clone()),
                EnvValue::Output(_) => None,
            },
        });
    }
    for (secret, reference) in &worker.secret {
        let pointer = path::pointer(&["worker", name, "secret", secret]);
        let mut push = |suffix: &str, value: Option<String>| {
            variables.push(Variable {
                name: [secret.as_str(), suffix].concat(),
                pointer: pointer.clone(),
                named_by_value: false,
                value,
            })
        };
        match (&reference.ssm, &reference.key) {
            (Some(ssm), _) => push("_PARAMETER", Some(format!("/{}", ssm.trim_matches('/')))),
            (None, key) => {
                push("_SECRET_ID", reference.from.clone());
                if let Some(key) = key {
                    push("_SECRET_KEY", Some(key.clone()));
                }
            }
        }
    }
    variables
}

/// Each variable the function gets is named as Lambda takes it, once, and all of them fit
/// in Lambda's 4 KB.
fn check_variables(name: &str, worker: &Worker, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let variables = variables(name, worker);
    let place = |variable: &Variable| match (
        at.spans.contains(&variable.pointer),
        variable.named_by_value,
    ) {
        (true, true) => at.value(&variable.pointer),
        (true, false) => at.key(&variable.pointer),
        (false, _) => at.key(&path::pointer(&["worker", name])),
    };
    let mut seen: Vec<&Variable> = Vec::new();
    for variable in &variables {
        let named = variable.name.as_str();
        let well_formed = named.starts_with(|c: char| c.is_ascii_alphabetic())
            && named.len() >= 2
            && named.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let (message, help) = if !well_formed {
            (
                format!("worker `{name}`'s function cannot have a variable named `{named}`"),
                "Lambda's variable names are a letter and then at least one letter, digit or `_`",
            )
        } else if RESERVED.contains(&named) {
            (
                format!("worker `{name}`'s function cannot set `{named}`: Lambda sets it"),
                "Lambda reserves the variables it sets itself (the region, the function's name and credentials, the handler, …): name yours otherwise",
            )
        } else if let Some(&earlier) = seen.iter().find(|v| v.name == variable.name) {
            // Shown at the one this environment sets itself, when the other is inherited.
            let set_here =
                |v: &Variable| at.spans.get(&v.pointer).is_some_and(|l| *l.env == *at.env);
            let (variable, earlier) = if set_here(earlier) && !set_here(variable) {
                (earlier, variable)
            } else {
                (variable, earlier)
            };
            let diagnostic = Diagnostic::error(
                Code::AwsRule,
                format!("worker `{name}`'s function gets `{named}` twice"),
            )
            .at(place(variable), "this variable")
            .also(place(earlier), "named the same")
            .help("a function has one value per variable, so one of the two would be lost: rename one (a secret's variables are its name with `_PARAMETER`, `_SECRET_ID` or `_SECRET_KEY`)");
            out.push(at.note_inherited(&variable.pointer, diagnostic));
            continue;
        } else {
            seen.push(variable);
            continue;
        };
        let diagnostic = Diagnostic::error(Code::AwsRule, message)
            .at(place(variable), "this variable")
            .help(help);
        out.push(at.note_inherited(&variable.pointer, diagnostic));
    }
    check_variables_size(name, &variables, at, out);
}

/// The most Lambda takes of a function's variables: 4 KB, measured as the JSON object of
/// names and values (its error shows the "String measured").
const MAX_VARIABLES_BYTES: usize = 4096;

/// The function's variables fit in [`MAX_VARIABLES_BYTES`]; counted without the values
/// only a deploy knows (the queue's URL, stack outputs), so a refusal is certain.
fn check_variables_size(
    name: &str,
    variables: &[Variable],
    at: &EnvSpans,
    out: &mut Vec<Diagnostic>,
) {
    let json = |text: &str| serde_json::Value::from(text).to_string().len();
    let known: usize = 2
        + variables
            .iter()
            .map(|v| json(&v.name) + 1 + v.value.as_deref().map_or(2, json))
            .sum::<usize>()
        + variables.len().saturating_sub(1);
    if known <= MAX_VARIABLES_BYTES {
        return;
    }
    let pointer = path::pointer(&["worker", name, "environment"]);
    let diagnostic = Diagnostic::error(
        Code::AwsRule,
        format!("worker `{name}`'s function gets at least {known} bytes of variables; Lambda takes 4 KB"),
    )
    .at(at.key(&pointer), "these variables, with its secrets' and queue's")
    .help("Lambda refuses a function whose variables (names and values, as JSON) pass 4 KB: keep large values in a secret or an SSM parameter, and read them at start");
    out.push(at.note_inherited(&pointer, diagnostic));
}

fn check_handler(name: &str, worker: &Worker, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let handler = &worker.handler;
    let length = handler.chars().count();
    if length <= MAX_HANDLER && !handler.is_empty() && !handler.contains(char::is_whitespace) {
        return;
    }
    let pointer = path::pointer(&["worker", name, "handler"]);
    let diagnostic = Diagnostic::error(
        Code::AwsRule,
        format!("worker `{name}`'s handler is not one Lambda takes"),
    )
    .at(at.value(&pointer), "the handler")
    .help(format!(
        "a handler is 1 to {MAX_HANDLER} characters without spaces, like \"index.handler\" (this one is {length})"
    ));
    out.push(at.note_inherited(&pointer, diagnostic));
}
