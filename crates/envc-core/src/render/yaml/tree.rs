//! The YAML tree rendered templates are checked and rewritten from. Scalars borrow from the
//! rendered text where they can and mappings are plain lists of entries, so reading a
//! template allocates little and hashes nothing; [`Yaml::to_value`] and [`Yaml::from_value`]
//! convert to and from `serde_yaml_ng`'s [`Value`], which it mirrors variant for variant.

use std::borrow::Cow;

use serde_yaml_ng::value::{Tag, TaggedValue};
use serde_yaml_ng::{Number, Value};

/// One YAML node, as `serde_yaml_ng` would resolve it. `Yokeable`: it can be kept with the
/// text it borrows from (see [`super::KeptTree`]).
#[derive(Debug, Clone, PartialEq, yoke::Yokeable)]
pub enum Yaml<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Sequence(Vec<Yaml<'a>>),
    Mapping(Mapping<'a>),
    /// A node with a local tag such as `!Ref`; the tag is kept as written, with its `!`.
    Tagged(Cow<'a, str>, Box<Yaml<'a>>),
}

/// A mapping's entries in document order. Keys are unique: the reader refuses duplicates.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping<'a> {
    entries: Vec<(Yaml<'a>, Yaml<'a>)>,
}

impl<'a> Yaml<'a> {
    pub fn str(text: &'a str) -> Self {
        Yaml::String(Cow::Borrowed(text))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_mapping(&self) -> Option<&Mapping<'a>> {
        match self {
            Yaml::Mapping(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_mapping_mut(&mut self) -> Option<&mut Mapping<'a>> {
        match self {
            Yaml::Mapping(map) => Some(map),
            _ => None,
        }
    }

    /// The value under the string key `key`, when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Yaml<'a>> {
        self.as_mapping()?.get(key)
    }

    /// The same node as `serde_yaml_ng` builds it.
    pub fn to_value(&self) -> Value {
        match self {
            Yaml::Null => Value::Null,
            Yaml::Bool(b) => Value::Bool(*b),
            Yaml::Number(n) => Value::Number(n.clone()),
            Yaml::String(s) => Value::String(s.to_string()),
            Yaml::Sequence(items) => Value::Sequence(items.iter().map(Yaml::to_value).collect()),
            Yaml::Mapping(map) => Value::Mapping(
                map.iter()
                    .map(|(k, v)| (k.to_value(), v.to_value()))
                    .collect(),
            ),
            Yaml::Tagged(tag, value) => Value::Tagged(Box::new(TaggedValue {
                tag: Tag::new(tag.as_ref()),
                value: value.to_value(),
            })),
        }
    }

    /// A `serde_yaml_ng` value as a tree (for text only `serde_yaml_ng` reads).
    pub fn from_value(value: Value) -> Yaml<'static> {
        match value {
            Value::Null => Yaml::Null,
            Value::Bool(b) => Yaml::Bool(b),
            Value::Number(n) => Yaml::Number(n),
            Value::String(s) => Yaml::String(Cow::Owned(s)),
            Value::Sequence(items) => {
                Yaml::Sequence(items.into_iter().map(Yaml::from_value).collect())
            }
            Value::Mapping(map) => Yaml::Mapping(Mapping {
                entries: map
                    .into_iter()
                    .map(|(k, v)| (Yaml::from_value(k), Yaml::from_value(v)))
                    .collect(),
            }),
            Value::Tagged(tagged) => Yaml::Tagged(
                Cow::Owned(tagged.tag.to_string()),
                Box::new(Yaml::from_value(tagged.value)),
            ),
        }
    }
}

impl<'a> Mapping<'a> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value under the string key `key`.
    pub fn get(&self, key: &str) -> Option<&Yaml<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn keys(&self) -> impl Iterator<Item = &Yaml<'a>> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Yaml<'a>, &Yaml<'a>)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub(super) fn push(&mut self, key: Yaml<'a>, value: Yaml<'a>) {
        self.entries.push((key, value));
    }

    /// The value under the string key `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Yaml<'a>> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Sets the value under the string key `key`: in its place, or last when it is new.
    pub fn set(&mut self, key: &str, value: Yaml<'a>) {
        match self.get_mut(key) {
            Some(old) => *old = value,
            None => self
                .entries
                .push((Yaml::String(Cow::Owned(key.to_string())), value)),
        }
    }

    /// Removes the entry under the string key `key`, if there is one.
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| k.as_str() != Some(key));
    }

    /// Whether two keys are equal (the reader leaves such a mapping to `serde_yaml_ng`,
    /// which reports it).
    pub(super) fn has_duplicate_keys(&self) -> bool {
        let keys = &self.entries;
        if keys.len() <= 12 {
            return keys
                .iter()
                .enumerate()
                .any(|(i, (key, _))| keys[..i].iter().any(|(other, _)| other == key));
        }
        let mut strings: Vec<&str> = keys.iter().filter_map(|(k, _)| k.as_str()).collect();
        strings.sort_unstable();
        let others: Vec<&Yaml> = keys
            .iter()
            .map(|(k, _)| k)
            .filter(|k| k.as_str().is_none())
            .collect();
        strings.windows(2).any(|pair| pair[0] == pair[1])
            || others
                .iter()
                .enumerate()
                .any(|(i, key)| others[..i].contains(key))
    }
}

impl<'m, 'a> IntoIterator for &'m Mapping<'a> {
    type Item = (&'m Yaml<'a>, &'m Yaml<'a>);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'m, (Yaml<'a>, Yaml<'a>)>,
        fn(&'m (Yaml<'a>, Yaml<'a>)) -> (&'m Yaml<'a>, &'m Yaml<'a>),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways() {
        let text = "a: [1, -2, 3.5, ~, true]\nb: !Ref X\n\"c\": {d: e}\n";
        let value: Value = serde_yaml_ng::from_str(text).unwrap();
        let tree = Yaml::from_value(value.clone());
        assert_eq!(tree.to_value(), value);
        assert_eq!(
            tree.get("b"),
            Some(&Yaml::Tagged("!Ref".into(), Box::new(Yaml::str("X"))))
        );
    }

    #[test]
    fn finds_duplicate_keys_in_small_and_large_mappings() {
        for size in [3, 40] {
            let mut map = Mapping::default();
            for i in 0..size {
                map.push(Yaml::String(format!("k{i}").into()), Yaml::Null);
            }
            map.push(Yaml::Number(1.into()), Yaml::Null);
            assert!(!map.has_duplicate_keys());
            map.push(Yaml::String("1".into()), Yaml::Null);
            assert!(!map.has_duplicate_keys(), "a number and a string differ");
            map.push(Yaml::String(format!("k{}", size - 1).into()), Yaml::Null);
            assert!(map.has_duplicate_keys());
        }
    }
}
