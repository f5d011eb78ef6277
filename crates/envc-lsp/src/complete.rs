//! Completion: the keys valid in the block at the cursor (project kinds' blocks included),
//! a setting's allowed values and a block's properties, environment names after `extends`
//! and `zone-owner`, stack names in `needs`, and paths after `${`.
//!
//! The context is read from the text before the cursor with the formatter's lexer, not from
//! a parse: a buffer being typed is seldom valid KDL.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse, CompletionTextEdit,
    Documentation, MarkupContent, MarkupKind, TextEdit,
};

use super::{Document, Snapshot};
use envc_core::docs::SchemaAt;
use envc_core::parse::lexer::{spanned, Lexer, Token};

/// Where the cursor is, as far as completion cares.
struct Context<'a> {
    /// The nodes of the blocks around the cursor, outermost first: each node's name and
    /// arguments as written.
    blocks: Vec<Vec<&'a str>>,
    /// The current node's words before the one being typed; `key=` is one word, `key=`.
    words: Vec<String>,
    /// The word being typed and where it starts.
    partial_start: usize,
    /// The names of the nodes before the cursor in the innermost block.
    siblings: Vec<&'a str>,
}

fn context(text: &str) -> Option<Context<'_>> {
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    let mut node: Vec<&str> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut continued = false;
    let mut last_atom: Option<(usize, &str)> = None;
    // The node names of each open block, the innermost last.
    let mut siblings: Vec<Vec<&str>> = vec![Vec::new()];
    let tokens = spanned(text);
    for (start, token) in &tokens {
        last_atom = None;
        match token {
            Token::Newline if continued => continued = false,
            Token::Newline | Token::Semicolon => {
                node.clear();
                words.clear();
            }
            Token::Continuation => continued = true,
            Token::Open => {
                blocks.push(std::mem::take(&mut node));
                siblings.push(Vec::new());
                words.clear();
            }
            Token::Close => {
                blocks.pop();
                if siblings.len() > 1 {
                    siblings.pop();
                }
                node.clear();
                words.clear();
            }
            Token::Atom(atom) => {
                if node.is_empty() {
                    if let Some(names) = siblings.last_mut() {
                        names.push(atom);
                    }
                }
                node.push(atom);
                words.push(atom.to_string());
                last_atom = Some((*start, atom));
            }
            Token::Equals => {
                if let Some(key) = words.last_mut() {
                    key.push('=');
                }
            }
            Token::LineComment(_) if start + token_len(token) >= text.len() => return None,
            _ => {}
        }
    }
    // A word ending at the cursor is the one being typed (`key=` then a value counts as a
    // word after `key=`).
    let mut siblings = siblings.pop().unwrap_or_default();
    let partial_start = match last_atom {
        Some((start, atom)) if start + atom.len() == text.len() => {
            if words.len() == 1 {
                // The name being typed is no sibling of its own.
                siblings.pop();
            }
            words.pop();
            start
        }
        _ => text.len(),
    };
    Some(Context {
        blocks,
        words,
        partial_start,
        siblings,
    })
}

/// Where the token being completed ends: a completion replaces it whole, so a closing quote
/// the editor typed already (`extends "|"`) is replaced, not doubled. An edit stays on the
/// cursor's line, as the protocol asks.
fn token_end(text: &str, partial_start: usize, cursor: usize) -> usize {
    if partial_start >= cursor {
        return cursor;
    }
    let line_end = text[cursor..]
        .find(envc_core::parse::lexer::is_newline)
        .map_or(text.len(), |at| cursor + at);
    match Lexer::new(&text[partial_start..]).next() {
        Some((_, Token::Atom(atom))) if partial_start + atom.len() > cursor => {
            (partial_start + atom.len()).min(line_end)
        }
        _ => cursor,
    }
}

/// The names of the nodes after `from` in the block it is in, up to the block's `}`.
fn names_after(text: &str, from: usize) -> Vec<&str> {
    let mut names = Vec::new();
    let (mut depth, mut at_node_start, mut continued) = (0usize, false, false);
    for (_, token) in Lexer::new(&text[from..]) {
        match token {
            Token::Newline if continued => continued = false,
            Token::Newline | Token::Semicolon if depth == 0 => at_node_start = true,
            Token::Continuation => continued = true,
            Token::Open => depth += 1,
            Token::Close if depth == 0 => break,
            Token::Close => {
                depth -= 1;
                at_node_start = depth == 0;
            }
            Token::Atom(atom) if depth == 0 && at_node_start => {
                names.push(atom);
                at_node_start = false;
            }
            _ => {}
        }
    }
    names
}

fn token_len(token: &Token) -> usize {
    match token {
        Token::LineComment(text) | Token::BlockComment(text) => text.len(),
        _ => 0,
    }
}

fn unquote(word: &str) -> &str {
    word.trim_matches('"')
}

pub fn complete(snapshot: &Snapshot, params: &CompletionParams) -> Option<CompletionResponse> {
    let place = &params.text_document_position;
    let document = snapshot.document(&place.text_document.uri)?;
    let offset = snapshot.offset(&document, place.position);
    let before = &document.text[..offset];
    let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    if let Some(open) = line.rfind("${").filter(|at| !line[*at..].contains('}')) {
        let partial_start = offset - (line.len() - open - 2);
        let after = &document.text[offset..];
        let path_end = offset
            + after
                .find(|c: char| !(c.is_alphanumeric() || "_.-".contains(c)))
                .unwrap_or(after.len());
        return Some(items(
            snapshot,
            &document,
            partial_start,
            path_end,
            reference_paths(snapshot, &document),
        ));
    }
    let mut context = context(before)?;
    let end = token_end(document.text, context.partial_start, offset);
    context.siblings.extend(names_after(document.text, end));
    let candidates = candidates(snapshot, &document, &context);
    Some(items(
        snapshot,
        &document,
        context.partial_start,
        end,
        candidates,
    ))
}

/// A completion: the text, its kind, and what to say about it.
struct Candidate {
    text: String,
    kind: CompletionItemKind,
    detail: Option<String>,
    documentation: Option<String>,
}

impl Candidate {
    fn plain(text: String, kind: CompletionItemKind) -> Candidate {
        Candidate {
            text,
            kind,
            detail: None,
            documentation: None,
        }
    }

    fn setting(name: &str, schema: &SchemaAt, suffix: &str) -> Candidate {
        let kind = if schema.is_block() {
            CompletionItemKind::MODULE
        } else {
            CompletionItemKind::PROPERTY
        };
        Candidate {
            text: format!("{name}{suffix}"),
            kind,
            detail: Some(schema.type_name()),
            documentation: Some(super::hover::reference_text(schema)),
        }
    }
}

fn items(
    snapshot: &Snapshot,
    document: &Document,
    start: usize,
    end: usize,
    candidates: Vec<Candidate>,
) -> CompletionResponse {
    let range = snapshot.range(document.text, start, end);
    let items = candidates
        .into_iter()
        .map(|c| CompletionItem {
            label: c.text.clone(),
            kind: Some(c.kind),
            detail: c.detail,
            documentation: c.documentation.map(|text| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: text,
                })
            }),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(range, c.text))),
            ..CompletionItem::default()
        })
        .collect();
    CompletionResponse::Array(items)
}

fn is_stacks_file(document: &Document) -> bool {
    document.relative == std::path::Path::new("stacks.kdl")
}

fn candidates(snapshot: &Snapshot, document: &Document, context: &Context) -> Vec<Candidate> {
    let analysis = &snapshot.analysis;
    let root = if is_stacks_file(document) {
        SchemaAt::root(envc_core::model::stacks_schema())
    } else {
        SchemaAt::root(analysis.env_schema())
    };
    let Some(block) = block_schema(root, &context.blocks) else {
        return Vec::new();
    };
    let top_level = context.blocks.is_empty();
    let Some(name) = context.words.first() else {
        let set_already = |name: &str, schema: &SchemaAt| {
            !schema.is_keyed() && context.siblings.iter().any(|s| unquote(s) == name)
        };
        let mut keys: Vec<Candidate> = block
            .keys()
            .iter()
            .filter(|(name, _)| !matches!(*name, "env" | "project") || is_stacks_file(document))
            .filter(|(name, schema)| !set_already(name, schema))
            .map(|(name, schema)| Candidate::setting(name, schema, ""))
            .collect();
        if top_level && !is_stacks_file(document) {
            for word in ["extends", "abstract"] {
                if context.siblings.contains(&word) {
                    continue;
                }
                keys.push(Candidate::plain(
                    word.to_string(),
                    CompletionItemKind::KEYWORD,
                ));
            }
        }
        return keys;
    };
    let name = name.as_str();
    if (top_level && name == "extends") || name == "zone-owner" {
        let own = document
            .relative
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let envs = &analysis.checked.parsed.envs;
        let extends = name == "extends";
        return envs
            .iter()
            .filter(|e| e.name != own && !(extends && inherits_from(analysis, &e.name, &own)))
            .map(|e| Candidate::plain(format!("{:?}", e.name), CompletionItemKind::REFERENCE))
            .collect();
    }
    if name == "needs" && is_stacks_file(document) {
        return stack_names(snapshot);
    }
    let Some(node) = block.child(name) else {
        return Vec::new();
    };
    // `key=` just before the word: the values of that property.
    if let Some(key) = context.words.last().and_then(|w| w.strip_suffix('=')) {
        return node.child(key).map(|s| values(&s)).unwrap_or_default();
    }
    if node.is_block() && !node.is_keyed() {
        return node
            .keys()
            .iter()
            .filter(|(key, _)| !context.words.iter().any(|w| w == &format!("{key}=")))
            .map(|(key, schema)| Candidate::setting(key, schema, "="))
            .collect();
    }
    values(&node)
}

/// Whether `env` inherits from `ancestor`: then `ancestor` extending it would be a cycle.
fn inherits_from(analysis: &super::Analysis, env: &str, ancestor: &str) -> bool {
    let envs = &analysis.checked.parsed;
    let mut at = envs.env(env);
    // A chain is at most as long as there are environments, cycles included.
    for _ in 0..=envs.envs.len() {
        let Some(parent) = at.and_then(|e| e.extends.as_ref()) else {
            return false;
        };
        if parent.name == ancestor {
            return true;
        }
        at = envs.env(&parent.name);
    }
    false
}

/// The schema of the innermost block in `blocks`: a keyed block's key is its first argument.
fn block_schema<'s>(root: SchemaAt<'s>, blocks: &[Vec<&str>]) -> Option<SchemaAt<'s>> {
    let mut at = root;
    for words in blocks {
        let name = words.first()?;
        at = at.child(name)?;
        if at.is_keyed() {
            at = at.child(unquote(words.get(1)?))?;
        }
    }
    Some(at)
}

fn values(schema: &SchemaAt) -> Vec<Candidate> {
    schema
        .choices()
        .into_iter()
        .map(|c| Candidate::plain(c, CompletionItemKind::ENUM_MEMBER))
        .collect()
}

fn stack_names(snapshot: &Snapshot) -> Vec<Candidate> {
    let Some(stacks) = &snapshot.analysis.checked.resolved.stacks else {
        return Vec::new();
    };
    let Some(envc_core::resolve::Value::Table(declared)) =
        stacks.root.entries.get("stack").map(|e| &e.value)
    else {
        return Vec::new();
    };
    declared
        .entries
        .keys()
        .map(|name| Candidate::plain(format!("{name:?}"), CompletionItemKind::MODULE))
        .collect()
}

/// Every value path of the environments that have this file in their chain.
fn reference_paths(snapshot: &Snapshot, document: &Document) -> Vec<Candidate> {
    let mut paths: Vec<String> = snapshot
        .lineage(document)
        .iter()
        .flat_map(|e| e.root.leaf_paths())
        .collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .map(|p| Candidate::plain(p, CompletionItemKind::VARIABLE))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_is_the_blocks_around_and_the_words_before() {
        let text = "a 1\ndatabase {\n    x 1\n    inst";
        let found = context(text).unwrap();
        assert_eq!(found.blocks, vec![vec!["database"]]);
        assert!(found.words.is_empty());
        assert_eq!(found.partial_start, text.len() - 4);
        let found = context("service \"api\" {\n    scaling min=1 ").unwrap();
        assert_eq!(found.blocks, vec![vec!["service", "\"api\""]]);
        assert_eq!(found.words, ["scaling", "min=", "1"]);
    }
}
