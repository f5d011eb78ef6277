//! A template's tree kept with the text it was read from (its strings are slices of that
//! text, not copies), and with where those strings are in its canonical text: a later stage
//! reads the tree instead of reading the text again, and still finds each value where the
//! canonical text has it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use yoke::Yoke;

use super::emit::{canonical_with_spots, Spots};
use super::Yaml;

/// How many values are looked up in a tree by going through its spots before they are
/// sorted by address: a template has a handful looked up (its names), and sorting every
/// template's spots cost more than all their lookups.
const LOOKUPS_BEFORE_SORTING: usize = 16;

/// A tree with the text it was read from, whose strings it borrows.
#[derive(Debug)]
pub struct ReadTree(Yoke<Yaml<'static>, Arc<String>>);

impl ReadTree {
    /// The tree `read` makes of `text`, kept with it; `None` where it makes none.
    pub fn read(text: Arc<String>, read: impl FnOnce(&str) -> Option<Yaml<'_>>) -> Option<Self> {
        Yoke::try_attach_to_cart(text, |text: &String| read(text).ok_or(()))
            .ok()
            .map(ReadTree)
    }

    pub fn tree(&self) -> &Yaml<'_> {
        self.0.get()
    }
}

/// A tree kept with its text, and its canonical text's places for its strings.
#[derive(Debug)]
pub struct KeptTree {
    tree: ReadTree,
    /// The spots of [`canonical_with_spots`], in the order written.
    spots: Spots,
    /// The spots by address, once more than [`LOOKUPS_BEFORE_SORTING`] values were looked up.
    by_address: OnceLock<Spots>,
    lookups: AtomicUsize,
}

impl KeptTree {
    /// `tree` kept, and its canonical text (what [`super::to_canonical_yaml`] writes).
    pub fn write(tree: ReadTree) -> (KeptTree, String) {
        let (text, spots) = canonical_with_spots(tree.tree());
        let kept = KeptTree {
            tree,
            spots,
            by_address: OnceLock::new(),
            lookups: AtomicUsize::new(0),
        };
        (kept, text)
    }

    pub fn tree(&self) -> &Yaml<'_> {
        self.tree.tree()
    }

    /// Where `value`, a string of the tree or part of one, is in the canonical text; `None`
    /// for one written otherwise than as it is (escaped in quotes, or a literal block).
    pub fn offset_of(&self, value: &str) -> Option<usize> {
        let address = value.as_ptr() as usize;
        let holds = |&&(start, len, _): &&(usize, usize, usize)| {
            start <= address && address + value.len() <= start + len
        };
        let spot = if self.lookups.fetch_add(1, Ordering::Relaxed) < LOOKUPS_BEFORE_SORTING {
            self.spots.iter().find(holds)
        } else {
            let by_address = self.by_address.get_or_init(|| {
                let mut sorted = self.spots.clone();
                sorted.sort_unstable_by_key(|&(start, _, _)| start);
                sorted
            });
            let after = by_address.partition_point(|&(start, _, _)| start <= address);
            by_address[..after].last().filter(holds)
        };
        spot.map(|&(start, _, offset)| offset + (address - start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string the text has as it is is found where a fresh reading of the text puts it.
    #[test]
    fn finds_each_string_where_the_text_has_it() {
        let text = "A:\n  Type: \"AWS::S3::Bucket\"\n  Properties:\n    Name: !Sub \"x-${AWS::Region}\"\n    Tags: [a, \"b c\", \"q\\\"uote\"]\n    Script: |\n      echo\n";
        let read = ReadTree::read(Arc::new(text.to_string()), |t| super::super::parse(t).ok());
        let (kept, canonical) = KeptTree::write(read.unwrap());
        let again = super::super::parse_again(&canonical).unwrap();
        assert_eq!(kept.tree(), &again);
        let mut checked = 0;
        // Twice: by going through the spots, then by address once sorted.
        for _ in 0..2 {
            strings_of(kept.tree(), &again, &mut |kept_string, read| {
                let at = (read.as_ptr() as usize).checked_sub(canonical.as_ptr() as usize);
                let inside = at.is_some_and(|at| at + read.len() <= canonical.len());
                match kept.offset_of(kept_string) {
                    Some(offset) => {
                        assert_eq!(Some(offset), at.filter(|_| inside), "{read}");
                        checked += 1;
                    }
                    // Escaped or a literal block: not in the text as it is.
                    None => assert!(!inside, "{read}"),
                }
            });
        }
        assert!(checked > LOOKUPS_BEFORE_SORTING, "{checked}");
        assert_eq!(kept.offset_of("elsewhere"), None);
    }

    /// Calls `each` with the same string of two equal trees, for every string and tag.
    fn strings_of<'t>(a: &'t Yaml, b: &'t Yaml, each: &mut impl FnMut(&'t str, &'t str)) {
        match (a, b) {
            (Yaml::String(x), Yaml::String(y)) => each(x, y),
            (Yaml::Tagged(tx, x), Yaml::Tagged(ty, y)) => {
                each(tx, ty);
                strings_of(x, y, each);
            }
            (Yaml::Sequence(x), Yaml::Sequence(y)) => {
                x.iter().zip(y).for_each(|(x, y)| strings_of(x, y, each))
            }
            (Yaml::Mapping(x), Yaml::Mapping(y)) => {
                for ((kx, vx), (ky, vy)) in x.iter().zip(y.iter()) {
                    strings_of(kx, ky, each);
                    strings_of(vx, vy, each);
                }
            }
            _ => {}
        }
    }
}
