//! The proxy's rules as a scenario writes them: `proxy { rule ACTION … { FAULT } }`.

use std::time::Duration;

use kdl::KdlNode;

use super::{children, integer, integer_at, json_of, name, only_properties, property, string};
use crate::support;
use crate::support::proxy::{aws_error, rewrite, Fault, Rule};

/// One rule of the proxy: `rule ACTION [stack=S] [times=N] [until=ACTION] { FAULT }`.
pub(super) fn rule(node: &KdlNode) -> Rule {
    assert_eq!(name(node), "rule", "a `proxy` holds only `rule`s");
    only_properties(node, &["stack", "times", "until", "body-has"]);
    let action: &'static str = leak(string(node, 0));
    let [fault] = children(node) else {
        panic!("rule {action}: one fault");
    };
    let mut made = Rule::new(action, fault_of(fault));
    if let Some(stack) = property(node, "stack") {
        made = made.stack(stack);
    }
    if let Some(times) = integer(node, "times") {
        made = made.times(times);
    }
    if let Some(text) = property(node, "body-has") {
        made = made.body_has(text);
    }
    if let Some(until) = property(node, "until") {
        made = made.until(leak(until));
    }
    made
}

/// `respond STATUS (code=C message=M | body=B)`, `drop`, `lose`, `delay-ms N`,
/// `status FROM TO` (a stack's status as moto reports it), `replace FROM TO` (any text of
/// moto's answer), or `answer BODY`.
fn fault_of(node: &KdlNode) -> Fault {
    match name(node) {
        "respond" => {
            let status = integer_at(node, 0) as u16;
            let body = match property(node, "code") {
                Some(code) => aws_error(code, property(node, "message").unwrap_or_default()),
                None => property(node, "body").unwrap_or_default().to_string(),
            };
            Fault::Respond(status, body)
        }
        "drop" => Fault::Drop,
        "lose" => Fault::Lose,
        "delay-ms" => Fault::Delay(Duration::from_millis(integer_at(node, 0) as u64)),
        "status" => {
            let from = format!("<StackStatus>{}</StackStatus>", string(node, 0));
            let to = format!("<StackStatus>{}</StackStatus>", string(node, 1));
            rewrite(move |body| body.replace(&from, &to))
        }
        "replace" => {
            let (from, to) = (string(node, 0).to_string(), string(node, 1).to_string());
            rewrite(move |body| body.replace(&from, &to))
        }
        "answer" => {
            let body = string(node, 0).to_string();
            support::proxy::answer(move |request| with_form_values(&body, request))
        }
        "json-set" => json_set(node),
        other => panic!("no fault `{other}`"),
    }
}

/// `text` with each `${Key}` replaced by the value of `Key` in the request's form.
fn with_form_values(text: &str, request: &str) -> String {
    let mut out = text.to_string();
    while let Some(start) = out.find("${") {
        let end = start + out[start..].find('}').expect("`${Key}` is closed");
        let value = support::proxy::form_value(request, &out[start + 2..end]).unwrap_or_default();
        out.replace_range(start..=end, &value);
    }
    out
}

/// `json-set ARRAY KEY=VALUE { set PATH VALUE … }`: in moto's JSON answer, the items of the
/// array at ARRAY (a JSON pointer) whose KEY is VALUE get each PATH set (`*` steps over an
/// array's items).
fn json_set(node: &KdlNode) -> Fault {
    let array = string(node, 0).to_string();
    let matching = node.entries().iter().find_map(|e| {
        let key = e.name()?.value().to_string();
        Some((key, e.value().as_string()?.to_string()))
    });
    let (key, value) = matching.expect("json-set ARRAY KEY=VALUE");
    let sets: Vec<(String, serde_json::Value)> = children(node)
        .iter()
        .map(|set| (string(set, 0).to_string(), json_of(set)))
        .collect();
    rewrite(move |body| {
        let mut answer: serde_json::Value = serde_json::from_str(body).unwrap();
        let items = answer.pointer_mut(&array).and_then(|v| v.as_array_mut());
        for item in items.into_iter().flatten() {
            if item[&key] == value.as_str() {
                for (path, to) in &sets {
                    set_at(item, &path.split('/').collect::<Vec<_>>(), to);
                }
            }
        }
        answer.to_string()
    })
}

fn set_at(value: &mut serde_json::Value, path: &[&str], to: &serde_json::Value) {
    match path {
        [] => *value = to.clone(),
        ["*", rest @ ..] => {
            for item in value.as_array_mut().into_iter().flatten() {
                set_at(item, rest, to);
            }
        }
        [key, rest @ ..] => set_at(&mut value[*key], rest, to),
    }
}

/// The proxy's rules name their actions for the test's whole life.
fn leak(text: &str) -> &'static str {
    Box::leak(text.to_string().into_boxed_str())
}
