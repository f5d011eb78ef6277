//! `${path}` references, resolved after merging so a child's override is seen by strings the
//! parent wrote. `$${` writes a literal `${`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::parse::Scalar;
use crate::source::{SourceMap, Span};

use super::path::KeyPath;
use super::value::{ScalarValue, Table, Value};

/// References followed through others before envc stops: real chains are two or three long.
pub const MAX_REF_DEPTH: usize = 32;

/// The longest string a value may expand to (the longest CloudFormation parameter value is
/// 4 KB; a description 1 KB).
pub const MAX_EXPANDED_BYTES: usize = 16 * 1024;

/// One piece of a string with references.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Ref(&'a str),
}

/// Splits a string into text and `${ref}` pieces; `Err(offset)` at an unclosed `${`.
fn pieces(text: &str) -> Result<Vec<Piece<'_>>, usize> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(at) = rest.find('$') {
        if rest[at..].starts_with("$${") {
            out.push(Piece::Text(&rest[..at]));
            out.push(Piece::Text("${"));
            rest = &rest[at + 3..];
            offset += at + 3;
        } else if rest[at..].starts_with("${") {
            out.push(Piece::Text(&rest[..at]));
            let Some(close) = rest[at..].find('}') else {
                return Err(offset + at);
            };
            out.push(Piece::Ref(rest[at + 2..at + close].trim()));
            rest = &rest[at + close + 1..];
            offset += at + close + 1;
        } else {
            out.push(Piece::Text(&rest[..=at]));
            rest = &rest[at + 1..];
            offset += at + 1;
        }
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

pub fn has_references(text: &str) -> bool {
    text.contains("${")
}

/// Whether `text` holds a `${` that would be read as a reference (not the literal `$${`).
pub fn holds_reference(text: &str) -> bool {
    pieces(text).map_or(true, |pieces| {
        pieces.iter().any(|p| matches!(p, Piece::Ref(_)))
    })
}

struct Resolver<'a> {
    root: &'a Table,
    sources: &'a SourceMap,
    env: &'a str,
    done: HashMap<KeyPath, Option<String>>,
    stack: Vec<KeyPath>,
    diagnostics: Vec<Diagnostic>,
    failed: HashSet<KeyPath>,
    /// A chain too long is reported once: the values after it fail the same way.
    limit_reported: bool,
}

/// Resolves every reference in `root`. Returns the paths whose strings could not be resolved
/// (left as written) and the diagnostics.
pub fn interpolate(
    root: &mut Table,
    env: &str,
    sources: &SourceMap,
) -> (HashSet<KeyPath>, Vec<Diagnostic>) {
    let holds_references = |s: &ScalarValue| s.value.as_str().is_some_and(has_references);
    let (mut templates, mut lists) = (Vec::new(), Vec::new());
    for path in root.leaves() {
        match root.get(&path) {
            Some(Value::Scalar(s)) if holds_references(s) => templates.push(path),
            Some(Value::List(l)) if l.items.iter().any(holds_references) => lists.push(path),
            _ => {}
        }
    }
    if templates.is_empty() && lists.is_empty() {
        return (HashSet::new(), Vec::new());
    }
    let mut resolver = Resolver {
        root,
        sources,
        env,
        done: HashMap::new(),
        stack: Vec::new(),
        diagnostics: Vec::new(),
        failed: HashSet::new(),
        limit_reported: false,
    };
    for path in &templates {
        resolver.resolve(path);
    }
    // A list's items are read by nothing else: each is resolved on its own.
    let mut items = Vec::new();
    for path in lists {
        let Some(Value::List(list)) = resolver.root.get(&path) else {
            continue;
        };
        let written: Vec<(usize, String, Span, Arc<str>)> = list
            .items
            .iter()
            .enumerate()
            .filter(|(_, item)| holds_references(item))
            .map(|(i, item)| {
                let text = item.value.as_str().unwrap_or_default().to_string();
                (i, text, item.origin.span, item.origin.env.clone())
            })
            .collect();
        for (index, text, span, origin_env) in written {
            let resolved = resolver.expand(&text, span, &origin_env, &path);
            if resolved.is_none() {
                resolver.failed.insert(path.clone());
            }
            items.push((path.clone(), index, resolved));
        }
    }
    let Resolver {
        done,
        diagnostics,
        failed,
        ..
    } = resolver;
    for path in templates {
        if let Some(Some(resolved)) = done.get(&path) {
            if let Some(Value::Scalar(scalar)) = root.get_mut(&path) {
                let written =
                    std::mem::replace(&mut scalar.value, Scalar::String(resolved.clone()));
                if let Scalar::String(written) = written {
                    scalar.template = Some(written);
                }
            }
        }
    }
    for (path, index, resolved) in items {
        let Some(resolved) = resolved else { continue };
        if let Some(Value::List(list)) = root.get_mut(&path) {
            let item = &mut list.items[index];
            let written = std::mem::replace(&mut item.value, Scalar::String(resolved));
            if let Scalar::String(written) = written {
                item.template = Some(written);
            }
        }
    }
    (failed, diagnostics)
}

impl Resolver<'_> {
    /// The resolved string at `path` (a string scalar with references).
    fn resolve(&mut self, path: &KeyPath) -> Option<String> {
        if let Some(done) = self.done.get(path) {
            return done.clone();
        }
        let Some(Value::Scalar(scalar)) = self.root.get(path) else {
            return None;
        };
        let text = scalar.value.as_str().unwrap_or_default().to_string();
        let span = scalar.origin.span;
        let origin_env = scalar.origin.env.clone();
        self.stack.push(path.clone());
        let result = self.expand(&text, span, &origin_env, path);
        self.stack.pop();
        if result.is_none() {
            self.failed.insert(path.clone());
        }
        self.done.insert(path.clone(), result.clone());
        result
    }

    /// `text` (written at `span` by `origin_env`, the value at `path`) with its references
    /// replaced; none when one cannot be, and said why.
    fn expand(
        &mut self,
        text: &str,
        span: Span,
        origin_env: &str,
        path: &KeyPath,
    ) -> Option<String> {
        match pieces(text) {
            Err(offset) => {
                let at = self.locate(span, &text[offset..offset + 2]);
                self.report(
                    origin_env,
                    Diagnostic::error(Code::RefSyntax, "`${` is not closed")
                        .at(at, "opened here")
                        .help("close the reference with `}`, or write `$${` for a literal `${`"),
                );
                None
            }
            Ok(parts) => {
                let mut out = String::new();
                let mut ok = true;
                for part in parts {
                    match part {
                        Piece::Text(t) => out.push_str(t),
                        Piece::Ref(reference) => match self.lookup(reference, span, origin_env) {
                            Some(value) => out.push_str(&value),
                            None => ok = false,
                        },
                    }
                    if out.len() > MAX_EXPANDED_BYTES {
                        self.report(
                            origin_env,
                            Diagnostic::error(
                                Code::RefLimit,
                                format!("`{path}` expands to more than {} KiB", MAX_EXPANDED_BYTES / 1024),
                            )
                            .at(span, "its references expand to too long a string")
                            .help("a setting's value is at most 16 KiB; check for references that repeat each other"),
                        );
                        ok = false;
                        break;
                    }
                }
                ok.then_some(out)
            }
        }
    }

    fn lookup(&mut self, reference: &str, span: Span, origin_env: &str) -> Option<String> {
        let at = self.locate(span, &format!("${{{reference}}}"));
        let path = self.root.find(reference);
        let in_stack = path
            .as_ref()
            .and_then(|path| self.stack.iter().position(|p| p == path));
        if let Some(position) = in_stack {
            self.report_cycle(reference, position, at, origin_env);
            return None;
        }
        match path.as_ref().and_then(|p| self.root.get(p)) {
            Some(Value::Scalar(scalar)) => match scalar.value.as_str() {
                Some(s) if has_references(s) && self.stack.len() >= MAX_REF_DEPTH => {
                    self.report_too_deep(reference, at, origin_env);
                    None
                }
                Some(s) if has_references(s) => self.resolve(path.as_ref()?),
                None if matches!(scalar.value, Scalar::Null) => {
                    let set_at = scalar.origin.span;
                    self.report(
                        origin_env,
                        Diagnostic::error(
                            Code::UnknownRef,
                            format!("`${{{reference}}}` is `#null` here, so there is no value to put in"),
                        )
                        .at(at, "refers to #null")
                        .also(set_at, "set to #null")
                        .help("give it a value, or remove the setting that refers to it"),
                    );
                    None
                }
                _ => Some(scalar.value.to_plain()),
            },
            Some(_) => {
                self.report(
                    origin_env,
                    Diagnostic::error(
                        Code::RefNotScalar,
                        format!("`${{{reference}}}` is a block or list, not a single value"),
                    )
                    .at(at, "refers to a block or list")
                    .help("refer to one value inside it, like `${network.cidr}`"),
                );
                None
            }
            None => {
                self.report_unknown(reference, at, origin_env);
                None
            }
        }
    }

    /// Reports a reference that closes a cycle through the values being resolved (from
    /// `position` of the stack on).
    fn report_cycle(&mut self, reference: &str, position: usize, at: Span, origin_env: &str) {
        let chain = self.stack[position..]
            .iter()
            .map(KeyPath::to_string)
            .collect::<Vec<_>>()
            .join("` → `");
        self.report(
            origin_env,
            Diagnostic::error(
                Code::RefCycle,
                format!("`${{{reference}}}` refers to itself"),
            )
            .at(at, "this reference closes a cycle")
            .help(format!("break the cycle: `{chain}` → `{reference}`")),
        );
    }

    /// Reports a reference reached through too many others (once per environment).
    fn report_too_deep(&mut self, reference: &str, at: Span, origin_env: &str) {
        if std::mem::replace(&mut self.limit_reported, true) {
            return;
        }
        self.report(
            origin_env,
            Diagnostic::error(
                Code::RefLimit,
                format!("`${{{reference}}}` is reached through more than {MAX_REF_DEPTH} references"),
            )
            .at(at, "the reference chain is too long here")
            .help(format!(
                "envc follows at most {MAX_REF_DEPTH} references from one value (`{}` → …); refer to the value itself",
                self.stack[0]
            )),
        );
    }

    /// Reports a reference that names no value, with the nearest path that does.
    fn report_unknown(&mut self, reference: &str, at: Span, origin_env: &str) {
        let paths = self.root.leaf_paths();
        let (help, suggestion) = suggestion(reference, paths.iter().map(String::as_str), || {
            "references name a value of the merged environment by its path, like `${env}` or `${network.cidr}`".to_string()
        });
        self.report(
            origin_env,
            Diagnostic::error(
                Code::UnknownRef,
                format!("`${{{reference}}}` names no value"),
            )
            .at(at, "unknown reference")
            .help(help)
            .suggest(suggestion),
        );
    }

    /// The span of `needle` inside the source of a string value, or the whole value.
    fn locate(&self, span: Span, needle: &str) -> Span {
        match self.sources.text(span).find(needle) {
            Some(at) => Span::new(span.file, span.start + at, span.start + at + needle.len()),
            None => span,
        }
    }

    fn report(&mut self, origin_env: &str, mut diagnostic: Diagnostic) {
        if origin_env != self.env {
            diagnostic = diagnostic.inherited_by(self.env);
        }
        self.diagnostics.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_and_references() {
        assert_eq!(
            pieces("${env}-api.${ domain }").unwrap(),
            vec![
                Piece::Text(""),
                Piece::Ref("env"),
                Piece::Text("-api."),
                Piece::Ref("domain"),
                Piece::Text("")
            ]
        );
        assert_eq!(pieces("a$${b}").unwrap().concat_text(), "a${b}");
        assert_eq!(pieces("cost $5").unwrap().concat_text(), "cost $5");
        assert_eq!(pieces("x ${open"), Err(2));
    }

    trait ConcatText {
        fn concat_text(&self) -> String;
    }
    impl ConcatText for Vec<Piece<'_>> {
        fn concat_text(&self) -> String {
            self.iter()
                .map(|p| match p {
                    Piece::Text(t) => *t,
                    Piece::Ref(_) => "?",
                })
                .collect()
        }
    }
}
