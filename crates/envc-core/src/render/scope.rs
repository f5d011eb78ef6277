//! The variables a template sees, as minijinja values. A JSON object becomes a [`TextMap`],
//! whose keys are looked up as text (a binary search of its sorted keys), where minijinja's
//! own maps compare keys as values; and a stack's variables are found in its own two before
//! the environment's, without merging them. Templates see what `Value::from(Serde(json))`
//! gives them: the same kinds of values, keys in the same (sorted) order; a test holds them
//! equal.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectExt, Value};

/// A JSON object's entries, sorted by key.
#[derive(Debug)]
pub(super) struct TextMap {
    /// Sorted by key; `names` holds the same keys as text, for the binary search of a
    /// lookup (a `Value`'s text costs a match on its representation each time).
    entries: Vec<(Value, Value)>,
    names: Vec<Box<str>>,
}

impl TextMap {
    fn new(object: serde_json::Map<String, serde_json::Value>) -> TextMap {
        let mut entries: Vec<(Box<str>, Value)> = object
            .into_iter()
            .map(|(key, value)| (key.into_boxed_str(), from_json(value)))
            .collect();
        entries.sort_by(|(a, _), (b, _)| a.cmp(b));
        let (names, values): (Vec<_>, Vec<_>) = entries.into_iter().unzip();
        let entries = names
            .iter()
            .map(|n| Value::from(&**n))
            .zip(values)
            .collect();
        TextMap { entries, names }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        let found = self.names.binary_search_by(|name| (**name).cmp(key));
        found.ok().map(|index| &self.entries[index].1)
    }
}

impl Object for TextMap {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get(key.as_str()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        self.mapped_enumerator(|map| Box::new(map.entries.iter().map(|(key, _)| key.clone())))
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// `json` as a template sees it.
pub(super) fn from_json(json: serde_json::Value) -> Value {
    use serde_json::Value as Json;
    match json {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(b),
        Json::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(unsigned), _) => Value::from(unsigned),
            (None, Some(signed)) => Value::from(signed),
            (None, None) => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::from(s),
        Json::Array(items) => Value::from(items.into_iter().map(from_json).collect::<Vec<_>>()),
        Json::Object(object) => Value::from_object(TextMap::new(object)),
    }
}

/// What every stack of an environment sees (see `StackContext::environment`).
pub(super) fn environment(json: serde_json::Value) -> Arc<TextMap> {
    match json {
        serde_json::Value::Object(object) => Arc::new(TextMap::new(object)),
        _ => Arc::new(TextMap {
            entries: Vec::new(),
            names: Vec::new(),
        }),
    }
}

/// What one stack's template sees: `stack` and `settings`, then its environment's.
#[derive(Debug)]
pub(super) struct StackScope {
    stack: Value,
    settings: Value,
    environment: Arc<TextMap>,
}

impl StackScope {
    pub fn value(stack_json: serde_json::Value, environment: &Arc<TextMap>) -> Value {
        let stack = from_json(stack_json);
        // The stack's own `settings`, converted once with it.
        let settings = stack
            .get_attr("settings")
            .ok()
            .filter(|settings| !settings.is_undefined())
            .unwrap_or(Value::from(()));
        Value::from_object(StackScope {
            stack,
            settings,
            environment: environment.clone(),
        })
    }
}

impl Object for StackScope {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "stack" => Some(self.stack.clone()),
            "settings" => Some(self.settings.clone()),
            name => self.environment.get(name).cloned(),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = self
            .environment
            .entries
            .iter()
            .map(|(k, _)| k.clone())
            .collect();
        keys.extend([Value::from("settings"), Value::from("stack")]);
        keys.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        keys.dedup();
        Enumerator::Values(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template sees the same values, in the same order, as minijinja's own conversion.
    #[test]
    fn templates_see_what_minijinjas_conversion_gives() {
        let json = serde_json::json!({
            "b": [1, -2, 2.5, "x", null, true, {"z": 1, "a": {"inner": []}}],
            "a": {"settings": {"max": 18446744073709551615u64}, "Upper": "u", "lower": "l"},
            "empty": {},
            "": "blank key",
        });
        let env = minijinja::Environment::new();
        let template = "{{ v | tojson }}|{% for k in v %}{{ k }},{% endfor %}|{{ v | dictsort }}|\
            {{ v.a | length }}|{{ v.b[6].a }}|{{ 'a' in v }}|{{ v.empty is mapping }}|\
            {{ v.empty | length }}|{{ v.b[6] == {'z': 1, 'a': {'inner': []}} }}|{% if v.empty %}x{% endif %}|\
            {{ v.b | map('string') | join(',') }}|{{ v.a.settings.max + 0 }}|{{ v.missing is defined }}";
        let ours = env
            .render_str(
                template,
                minijinja::context! { v => from_json(json.clone()) },
            )
            .unwrap();
        let theirs = env
            .render_str(
                template,
                minijinja::context! { v => Value::from(minijinja::value::Serde(json)) },
            )
            .unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn a_stack_sees_its_own_before_its_environments() {
        let environment = environment(serde_json::json!({"env": "dev", "stack": "shadowed"}));
        let scope = StackScope::value(
            serde_json::json!({"name": "api", "settings": {"size": 2}}),
            &environment,
        );
        let env = minijinja::Environment::new();
        let rendered = env
            .render_str("{{ env }} {{ stack.name }} {{ settings.size }}", scope)
            .unwrap();
        assert_eq!(rendered, "dev api 2");
    }
}
