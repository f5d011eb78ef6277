//! The bounds of a kind's schema, checked when the kind is loaded so that nothing walking it
//! later (validation, `docs`, the LSP) can be led astray: the file's size and nesting are
//! limited, every `$ref` points into the schema's own `$defs` (or `definitions`), at
//! something that exists, without a cycle, and the schema with its `$ref`s written out stays
//! small. Settings blocks are written out in full, so they are finite: a definition that
//! contains itself is refused, not walked to some depth.

use std::collections::HashMap;

use serde_json::Value;

use super::json_spans::{self, RefAt};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The largest schema file a kind may have; real ones are a few kilobytes.
pub const MAX_BYTES: usize = 1 << 20;
/// The deepest nesting of objects and arrays a kind's schema may have; real ones use ten.
pub const MAX_DEPTH: usize = 64;
/// The most JSON values a kind's schema may be with its `$ref`s written out; real ones are a
/// few hundred.
pub const MAX_WRITTEN_OUT: u64 = 100_000;

/// Where a kind's definitions live: what its `$ref`s may point into.
const DEFINITIONS: [&str; 2] = ["$defs", "definitions"];
/// Keywords whose value names schemas: the step after one is a name, not a keyword.
const NAMING: [&str; 6] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependencies",
    "dependentSchemas",
];
/// Keywords whose value is data, where a `"$ref"` is only a string.
const DATA: [&str; 4] = ["enum", "const", "default", "examples"];
/// Steps into a setting of a block or an item of a list.
const INTO_SETTING: [&str; 6] = [
    "properties",
    "patternProperties",
    "additionalProperties",
    "items",
    "prefixItems",
    "additionalItems",
];

/// A schema file too large to be a kind's, before it is parsed.
pub fn check_size(name: &str, file: FileId, text: &str) -> Option<Diagnostic> {
    (text.len() > MAX_BYTES).then(|| {
        Diagnostic::error(
            Code::KindDefinition,
            format!(
                "the schema of kind `{name}` is {} bytes, more than a kind's schema may be",
                text.len()
            ),
        )
        .at(Span::new(file, 0, 0), "this file")
        .help("a kind's schema may be up to 1 MiB (real ones are a few kilobytes): split the kind, or remove what no setting uses")
    })
}

/// The problems of a parsed kind schema's nesting and `$ref`s, each at the place in `text`
/// that has it.
pub fn check_refs(name: &str, file: FileId, text: &str, schema: &Value) -> Vec<Diagnostic> {
    let found = json_spans::scan(text, MAX_DEPTH);
    if let Some(at) = found.too_deep {
        return vec![Diagnostic::error(
            Code::KindDefinition,
            format!("the schema of kind `{name}` nests deeper than {MAX_DEPTH} levels"),
        )
        .at(Span::new(file, at, at + 1), "too deep from here")
        .help(format!(
            "a kind's schema may nest objects and lists up to {MAX_DEPTH} levels (real ones use about ten): move inner schemas under `\"$defs\"` and refer to them with `\"$ref\"`"
        ))];
    }
    let mut problems = Vec::new();
    let mut links = Vec::new();
    for at in found.refs.iter().filter(|r| !is_data(&r.holder)) {
        match target_of(name, at, schema) {
            Ok(target) => links.push((at, target)),
            Err(problem) => problems.push(problem.at_ref(file, at)),
        }
    }
    if problems.is_empty() {
        let graph = RefGraph::new(&links);
        problems.extend(
            cycle(name, file, &links, &graph)
                .or_else(|| written_out(name, file, schema, &links, &graph)),
        );
    }
    problems
}

/// A problem with one `$ref`, before it is placed.
struct RefProblem {
    message: String,
    label: &'static str,
    help: String,
}

impl RefProblem {
    fn at_ref(self, file: FileId, at: &RefAt) -> Diagnostic {
        Diagnostic::error(Code::KindDefinition, self.message)
            .at(Span::new(file, at.span.start, at.span.end), self.label)
            .help(self.help)
    }
}

/// The steps of the definition `at` points to, when it is one of this schema's.
fn target_of(name: &str, at: &RefAt, schema: &Value) -> Result<Vec<String>, RefProblem> {
    let target = &at.target;
    if at.keyword != "$ref" {
        return Err(RefProblem {
            message: format!("kind `{name}` uses `{}`, which envc does not follow", at.keyword),
            label: "a dynamic reference",
            help: "refer to a definition with `\"$ref\": \"#/$defs/<name>\"`; a kind's settings cannot contain themselves".to_string(),
        });
    }
    let Some(fragment) = target.strip_prefix('#') else {
        return Err(RefProblem {
            message: format!("kind `{name}` refers to `{target}`, outside its schema"),
            label: "not in this file",
            help: "envc reads nothing but the kind's own schema: copy the definition under `\"$defs\"` and refer to it as `\"#/$defs/<name>\"`".to_string(),
        });
    };
    let steps = pointer_steps(fragment);
    let into_definitions =
        steps.len() >= 2 && DEFINITIONS.contains(&steps[0].as_str()) && fragment.starts_with('/');
    if !into_definitions {
        return Err(RefProblem {
            message: format!("kind `{name}` refers to `{target}`, which is not one of its definitions"),
            label: "not under `$defs`",
            help: "a kind's schema is placed inside the environment schema, where only its `\"$defs\"` (or `\"definitions\"`) come along: put the schema there and refer to it as `\"#/$defs/<name>\"`".to_string(),
        });
    }
    if resolve(schema, &steps).is_some() {
        return Ok(steps);
    }
    let defined = schema[steps[0].as_str()].as_object();
    let names = defined
        .into_iter()
        .flat_map(|d| d.keys().map(String::as_str));
    let help = crate::did_you_mean::did_you_mean(&steps[1], names).unwrap_or_else(|| {
        format!(
            "define it under `\"{}\"`, or refer to one that is there",
            steps[0]
        )
    });
    Err(RefProblem {
        message: format!("kind `{name}` refers to `{target}`, which its schema does not define"),
        label: "leads nowhere",
        help,
    })
}

/// The steps of a JSON pointer written as a URI fragment (`/$defs/a~1b` is `$defs`, `a/b`).
fn pointer_steps(fragment: &str) -> Vec<String> {
    let decoded = percent_decode(fragment);
    decoded
        .split('/')
        .skip(1)
        .map(|step| step.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = text.get(at + 1..at + 3).filter(|_| bytes[at] == b'%');
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(byte) => {
                out.push(byte);
                at += 3;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn resolve<'v>(schema: &'v Value, steps: &[String]) -> Option<&'v Value> {
    steps.iter().try_fold(schema, |at, step| match at {
        Value::Object(map) => map.get(step),
        Value::Array(items) => items.get(step.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Whether a `"$ref"` held at `holder` is data (inside an `enum`, a `default`, …).
fn is_data(holder: &[String]) -> bool {
    let mut naming = false;
    for step in holder {
        if naming {
            naming = false;
            continue;
        }
        if DATA.contains(&step.as_str()) {
            return true;
        }
        naming = NAMING.contains(&step.as_str());
    }
    false
}

/// The `$ref`s of a schema as a graph: a node per definition referred to, and an edge from
/// each to every definition referred to from inside it.
struct RefGraph<'l> {
    nodes: Vec<&'l [String]>,
    /// `(to, link)`: the definition reached, and the `$ref` (an index of the links) that does.
    edges: Vec<Vec<(usize, usize)>>,
    /// The node each link reaches.
    reached: Vec<usize>,
}

impl<'l> RefGraph<'l> {
    fn new(links: &'l [(&RefAt, Vec<String>)]) -> Self {
        let mut ids: HashMap<&[String], usize> = HashMap::new();
        let mut nodes: Vec<&[String]> = Vec::new();
        for (_, target) in links {
            ids.entry(target.as_slice()).or_insert_with(|| {
                nodes.push(target);
                nodes.len() - 1
            });
        }
        let reached = links.iter().map(|(_, t)| ids[t.as_slice()]).collect();
        let mut edges = vec![Vec::new(); nodes.len()];
        for (index, (at, target)) in links.iter().enumerate() {
            // Nesting is bounded, so each `$ref` is inside at most `MAX_DEPTH` definitions.
            for end in 0..=at.holder.len() {
                if let Some(&from) = ids.get(&at.holder[..end]) {
                    edges[from].push((ids[target.as_slice()], index));
                }
            }
        }
        RefGraph {
            nodes,
            edges,
            reached,
        }
    }
}

/// The first cycle of references, as a diagnostic at the `$ref` that closes it.
fn cycle(
    name: &str,
    file: FileId,
    links: &[(&RefAt, Vec<String>)],
    graph: &RefGraph,
) -> Option<Diagnostic> {
    let (start, via) = find_cycle(&graph.edges)?;
    Some(describe_cycle(name, file, links, graph.nodes[start], &via))
}

/// A cycle in `edges` (each `(to, link)`): where it starts and the links around it.
fn find_cycle(edges: &[Vec<(usize, usize)>]) -> Option<(usize, Vec<usize>)> {
    let mut state = vec![0u8; edges.len()]; // 0 unseen, 1 on the path, 2 done
    for start in 0..edges.len() {
        if state[start] != 0 {
            continue;
        }
        state[start] = 1;
        let mut path: Vec<(usize, usize, Option<usize>)> = vec![(start, 0, None)];
        while let Some(top) = path.last_mut() {
            let Some(&(to, link)) = edges[top.0].get(top.1) else {
                state[top.0] = 2;
                path.pop();
                continue;
            };
            top.1 += 1;
            match state[to] {
                0 => {
                    state[to] = 1;
                    path.push((to, 0, Some(link)));
                }
                1 => {
                    let from = path.iter().position(|f| f.0 == to)?;
                    let mut via: Vec<usize> = path[from + 1..].iter().filter_map(|f| f.2).collect();
                    via.push(link);
                    return Some((to, via));
                }
                _ => {}
            }
        }
    }
    None
}

fn describe_cycle(
    name: &str,
    file: FileId,
    links: &[(&RefAt, Vec<String>)],
    start: &[String],
    via: &[usize],
) -> Diagnostic {
    let mut chain = vec![pointer(start)];
    let mut through_setting = false;
    let mut at = start;
    for &link in via {
        let (reference, target) = &links[link];
        let inside = &reference.holder[at.len().min(reference.holder.len())..];
        through_setting |= inside.iter().any(|s| INTO_SETTING.contains(&s.as_str()));
        if reference.holder.as_slice() != at {
            chain.push(pointer(&reference.holder));
        }
        chain.push(pointer(target));
        at = target;
    }
    let closing = links[*via.last().unwrap_or(&0)].0;
    let span = Span::new(file, closing.span.start, closing.span.end);
    let chain = chain.join(" → ");
    if through_setting {
        Diagnostic::error(
            Code::KindDefinition,
            format!("the schema of kind `{name}` is recursive: {chain}"),
        )
        .at(span, "refers back to a definition it is inside")
        .help("a settings block is written out in full, so it cannot nest itself without end: give the inner level its own definition, without this `$ref`")
    } else {
        Diagnostic::error(
            Code::KindDefinition,
            format!("the `$ref`s of kind `{name}` go round in a cycle: {chain}"),
        )
        .at(span, "closes the cycle")
        .help("each `$ref` only names another, so none reaches a schema: make one of them a schema (with `\"type\"`) instead of a `$ref`")
    }
}

/// The schema as large as it is with every `$ref` written out, when that is more than
/// [`MAX_WRITTEN_OUT`]: definitions that each use the next twice double at every step, and
/// every walk of the schema (the documents, an editor's shapes) would too. At the `$ref`
/// outside the definitions that brings the most.
fn written_out(
    name: &str,
    file: FileId,
    schema: &Value,
    links: &[(&RefAt, Vec<String>)],
    graph: &RefGraph,
) -> Option<Diagnostic> {
    let sizes: Vec<u64> = graph
        .nodes
        .iter()
        .map(|steps| resolve(schema, steps).map_or(1, count_values))
        .collect();
    let expanded = expanded_sizes(&graph.edges, &sizes);
    let mut total = count_values(schema);
    let mut largest: Option<(u64, usize)> = None;
    for (link, (at, _)) in links.iter().enumerate() {
        if at
            .holder
            .first()
            .is_some_and(|s| DEFINITIONS.contains(&s.as_str()))
        {
            continue;
        }
        let size = expanded[graph.reached[link]];
        total = total.saturating_add(size);
        if largest.is_none_or(|(most, _)| size > most) {
            largest = Some((size, link));
        }
    }
    let (_, link) = largest.filter(|_| total > MAX_WRITTEN_OUT)?;
    let at = &links[link].0.span;
    Some(
        Diagnostic::error(
            Code::KindDefinition,
            format!("the schema of kind `{name}` is more than {MAX_WRITTEN_OUT} values with its `$ref`s written out"),
        )
        .at(Span::new(file, at.start, at.end), "the most from here")
        .help("each `$ref` stands for its whole definition, so definitions that use each other several times over multiply; a kind's schema written out may have up to 100,000 values (real ones have a few hundred)"),
    )
}

/// Each node's size with its references written out; `edges` have no cycle.
fn expanded_sizes(edges: &[Vec<(usize, usize)>], sizes: &[u64]) -> Vec<u64> {
    let mut total: Vec<Option<u64>> = vec![None; edges.len()];
    for start in 0..edges.len() {
        let mut stack = vec![start];
        while let Some(&node) = stack.last() {
            if total[node].is_some() {
                stack.pop();
                continue;
            }
            let before = stack.len();
            stack.extend(
                edges[node]
                    .iter()
                    .map(|e| e.0)
                    .filter(|&to| total[to].is_none()),
            );
            if stack.len() == before {
                let sum = edges[node].iter().map(|e| total[e.0].unwrap_or(0));
                total[node] = Some(sum.fold(sizes[node], u64::saturating_add));
                stack.pop();
            }
        }
    }
    total.into_iter().map(Option::unwrap_or_default).collect()
}

/// How many JSON values `value` is, itself included.
fn count_values(value: &Value) -> u64 {
    let mut count = 0;
    let mut pending = vec![value];
    while let Some(at) = pending.pop() {
        count += 1;
        match at {
            Value::Object(map) => pending.extend(map.values()),
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    count
}

/// Steps as the `#/…` a `$ref` writes.
fn pointer(steps: &[String]) -> String {
    let escaped: Vec<String> = steps
        .iter()
        .map(|s| s.replace('~', "~0").replace('/', "~1"))
        .collect();
    format!("`#/{}`", escaped.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let schema: Value = serde_json::from_str(text).unwrap();
        check_refs("k", FileId(0), text, &schema)
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn references_into_the_definitions_without_a_cycle_pass() {
        let text = r##"{"properties": {"a": {"$ref": "#/$defs/a"}, "b": {"$ref": "#/definitions/b%20c"},
            "d": {"default": {"$ref": "data"}}, "e": {"properties": {"default": {"$ref": "#/$defs/a"}}}},
            "$defs": {"a": {"properties": {"x": {"$ref": "#/$defs/z"}}}, "z": {"type": "string"}},
            "definitions": {"b c": {"allOf": [{"$ref": "#/$defs/a"}]}}}"##;
        assert_eq!(problems(text), Vec::<String>::new());
        let dynamic = r##"{"properties": {"a": {"$dynamicRef": "#node"}}}"##;
        assert_eq!(
            problems(dynamic),
            ["kind `k` uses `$dynamicRef`, which envc does not follow"]
        );
    }

    #[test]
    fn a_cycle_is_told_apart_from_recursion() {
        let alias = r##"{"properties": {"x": {"$ref": "#/$defs/a"}},
            "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}}"##;
        assert_eq!(
            problems(alias),
            ["the `$ref`s of kind `k` go round in a cycle: `#/$defs/a` → `#/$defs/b` → `#/$defs/b/allOf/0` → `#/$defs/a`"]
        );
        let recursive = r##"{"$defs": {"node": {"properties": {"kids": {"items": {"$ref": "#/$defs/node"}}}}}}"##;
        assert_eq!(
            problems(recursive),
            ["the schema of kind `k` is recursive: `#/$defs/node` → `#/$defs/node/properties/kids/items` → `#/$defs/node`"]
        );
    }

    #[test]
    fn size_and_depth_are_bounded() {
        let big = format!("{{\"description\": \"{}\"}}", "x".repeat(MAX_BYTES));
        assert!(check_size("k", FileId(0), &big).is_some());
        assert!(check_size("k", FileId(0), "{}").is_none());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            problems(&deep),
            ["the schema of kind `k` nests deeper than 64 levels"]
        );
    }

    #[test]
    fn definitions_that_multiply_when_written_out_are_refused() {
        // Each level uses the next twice: 2^20 copies of the last written out.
        let mut defs = serde_json::Map::new();
        for level in 0..20 {
            let next = serde_json::json!({ "$ref": format!("#/$defs/d{}", level + 1) });
            defs.insert(
                format!("d{level}"),
                serde_json::json!({ "properties": { "a": next, "b": next } }),
            );
        }
        defs.insert("d20".into(), serde_json::json!({ "type": "string" }));
        let schema =
            serde_json::json!({ "properties": { "x": { "$ref": "#/$defs/d0" } }, "$defs": defs });
        let found = problems(&serde_json::to_string(&schema).unwrap());
        assert_eq!(
            found,
            ["the schema of kind `k` is more than 100000 values with its `$ref`s written out"]
        );
        // Ten levels are a thousand copies: passed.
        let ten = serde_json::to_string(&schema)
            .unwrap()
            .replace("#/$defs/d10\"", "#/$defs/d20\"");
        assert_eq!(problems(&ten), Vec::<String>::new());
    }
}
