//! Where a finding is shown: at the setting of the environment whose value made the rendered
//! value, when one did, else at the value's line in the rendered (golden) file.

use std::collections::BTreeMap;
use std::path::Path;

use super::template::Rendered;
use crate::diagnostic::Diagnostic;
use crate::render::RenderedStack;
use crate::source::{FileId, SourceMap, Span};
use crate::validate::ValidEnv;

/// Settings that appear in many names without choosing them (an account id in a bucket's
/// name): never where a name is placed.
const NOT_NAMES: &[&str] = &["/account", "/region", "/name", "/project"];

/// A rendered stack and its environment: what a place in the stack is found from, still
/// there once the stack's tree is gone (the rules keep facts across environments, not trees).
#[derive(Clone, Copy)]
pub(crate) struct StackAt<'a> {
    pub env: &'a ValidEnv,
    pub stack: &'a RenderedStack,
}

/// Where a scalar is in a rendered text: its start (`None` when it is not there) and length.
#[derive(Clone, Copy)]
pub(crate) struct Spot {
    pub start: Option<usize>,
    pub len: usize,
}

impl StackAt<'_> {
    pub fn account(&self) -> &str {
        &self.env.model.account
    }

    pub fn region(&self) -> &str {
        self.env.model.region.as_deref().unwrap_or_default()
    }
}

impl Spot {
    /// `value`'s place in `stack`'s text: where it points into it (a scalar of a tree read
    /// from the text), or where render wrote it (a scalar of the tree render kept), else its
    /// first occurrence.
    pub fn of(stack: &RenderedStack, value: &str) -> Spot {
        let body = &stack.body;
        let start = (value.as_ptr() as usize)
            .checked_sub(body.as_ptr() as usize)
            .filter(|start| start + value.len() <= body.len())
            .or_else(|| stack.tree.as_ref()?.offset_of(value))
            .or_else(|| body.find(value));
        Spot {
            start,
            len: value.len(),
        }
    }
}

/// The place of a rendered value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    pub span: Span,
    /// Whether a setting of the environment made it (else it is a line of the rendered file).
    pub setting: bool,
    /// Whether an ancestor of the environment set it.
    pub inherited: bool,
}

pub(crate) struct Placer<'s> {
    pub sources: &'s mut SourceMap,
    /// The project, whose golden file is a rendered text dropped once found the same.
    root: &'s Path,
    /// Rendered texts added to `sources`, by (environment, stack).
    pub rendered: BTreeMap<(String, String), FileId>,
}

impl<'s> Placer<'s> {
    /// Places findings in `sources`, with the rendered texts already added to them.
    pub fn new(
        sources: &'s mut SourceMap,
        root: &'s Path,
        rendered: BTreeMap<(String, String), FileId>,
    ) -> Self {
        Placer {
            sources,
            root,
            rendered,
        }
    }

    /// Where `value` (a scalar of `stack`'s tree, whose text is `shown` once filled in) was
    /// set: the longest setting of the environment whose text it contains, else the scalar
    /// in the rendered file.
    pub fn place(&mut self, stack: StackAt, value: Spot, shown: &str) -> Place {
        match self.setting(stack, shown) {
            Some(place) => place,
            None => self.at_spot(stack, value),
        }
    }

    /// Where `value`, a scalar of `stack`'s tree, is in its rendered text.
    pub fn in_rendered(&mut self, stack: &Rendered, value: &str) -> Place {
        self.at_spot(stack.at(), Spot::of(stack.stack, value))
    }

    /// The place of `spot` in `stack`'s rendered text, which becomes a file of the sources
    /// the first time a finding is placed in it.
    pub fn at_spot(&mut self, stack: StackAt, spot: Spot) -> Place {
        let sources = &mut *self.sources;
        let root = self.root;
        let file = *self
            .rendered
            .entry((stack.env.name.clone(), stack.stack.stack.clone()))
            .or_insert_with(|| {
                let golden = stack.stack.golden_path();
                let path = format!("{} (rendered)", golden.display());
                // A text dropped once checked was its golden file.
                let body = match stack.stack.body.is_empty() {
                    true => crate::files::read_text(root, &golden).unwrap_or_default(),
                    false => stack.stack.body.clone(),
                };
                sources.add(path, body)
            });
        let span = match spot.start {
            Some(start) => Span::new(file, start, start + spot.len),
            None => Span::new(file, 0, 0),
        };
        Place {
            span,
            setting: false,
            inherited: false,
        }
    }

    fn setting(&self, stack: StackAt, shown: &str) -> Option<Place> {
        // The stack's own block first (`/uploads/name` for stack `uploads`), then the longest.
        let own = format!("/{}/", stack.stack.stack);
        let mut best: Option<((bool, usize), &str, Place)> = None;
        for (pointer, located) in stack.env.spans.iter() {
            if NOT_NAMES.contains(&pointer) {
                continue;
            }
            let text = unquoted(self.sources.text(located.value));
            if text.len() < 3 || !shown.contains(text) {
                continue;
            }
            let rank = (pointer.starts_with(&own), text.len());
            let better = best
                .as_ref()
                .is_none_or(|(r, p, _)| rank > *r || (rank == *r && pointer < *p));
            if better {
                let place = Place {
                    span: located.value,
                    setting: true,
                    inherited: *located.env != *stack.env.name,
                };
                best = Some((rank, pointer, place));
            }
        }
        best.map(|(_, _, place)| place)
    }
}

/// A KDL string's text without its quotes (`"x"`, `#"x"#`); other values as written.
fn unquoted(text: &str) -> &str {
    let hashes = text.len() - text.trim_start_matches('#').len();
    let inner = &text[hashes..text.len().saturating_sub(hashes).max(hashes)];
    inner
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

impl Place {
    /// Adds the note that `env` has the value through inheritance, where it does.
    pub fn note_inherited(&self, env: &str, diagnostic: Diagnostic) -> Diagnostic {
        if self.inherited {
            diagnostic.inherited_by(env)
        } else {
            diagnostic
        }
    }
}

#[cfg(test)]
mod tests {
    use super::unquoted;

    #[test]
    fn strings_lose_their_quotes() {
        assert_eq!(unquoted("\"wallet\""), "wallet");
        assert_eq!(unquoted("#\"wallet\"#"), "wallet");
        assert_eq!(unquoted("12"), "12");
        assert_eq!(unquoted("#"), "#");
    }
}
