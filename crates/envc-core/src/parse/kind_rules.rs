//! The rules a project kind declares about its own settings, beside its JSON Schema:
//!
//! ```json
//! "x-envc-rules": [
//!   { "when": "read.min > read.max", "message": "the minimum read capacity is above the maximum" }
//! ]
//! ```
//!
//! `when` is one comparison, or several joined by `&&`, of settings of the block (dotted
//! paths of its property names), numbers, `true`, `false` and quoted strings, with `<`, `<=`,
//! `>`, `>=`, `==` and `!=`. When it holds, the environment's block is refused with the
//! message, at the setting named first. Rules are read when the kind is loaded: one that
//! does not parse, or names no setting of the schema, makes no kind.

use serde_json::Value;

/// The keyword a kind's schema lists its rules under.
pub const RULES: &str = "x-envc-rules";

/// One rule: the block is refused with `message` when every comparison holds.
#[derive(Debug, Clone, PartialEq)]
pub struct KindRule {
    pub when: String,
    pub comparisons: Vec<Comparison>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub left: Operand,
    pub op: Op,
    pub right: Operand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A setting of the block, by its property names (`["read", "min"]`).
    Setting(Vec<String>),
    Literal(Value),
}

impl Comparison {
    /// Whether it holds for `block` (the settings with their defaults); `None` when a setting
    /// it names is absent (the rule does not apply).
    pub fn holds(&self, block: &Value) -> Option<bool> {
        let value = |operand: &Operand| -> Option<Value> {
            match operand {
                Operand::Literal(v) => Some(v.clone()),
                Operand::Setting(path) => path
                    .iter()
                    .try_fold(block, |node, key| node.get(key))
                    .filter(|v| !v.is_null())
                    .cloned(),
            }
        };
        let (left, right) = (value(&self.left)?, value(&self.right)?);
        let ordering = match (&left, &right) {
            (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            _ => None,
        };
        Some(match self.op {
            Op::Equal => left == right,
            Op::NotEqual => left != right,
            Op::Less => ordering? == std::cmp::Ordering::Less,
            Op::LessOrEqual => ordering? != std::cmp::Ordering::Greater,
            Op::Greater => ordering? == std::cmp::Ordering::Greater,
            Op::GreaterOrEqual => ordering? != std::cmp::Ordering::Less,
        })
    }
}

impl KindRule {
    /// The settings it names, in order, each once.
    pub fn settings(&self) -> Vec<&[String]> {
        let mut found: Vec<&[String]> = Vec::new();
        for c in &self.comparisons {
            for operand in [&c.left, &c.right] {
                if let Operand::Setting(path) = operand {
                    if !found.contains(&path.as_slice()) {
                        found.push(path);
                    }
                }
            }
        }
        found
    }

    /// Whether it refuses `block`.
    pub fn refuses(&self, block: &Value) -> bool {
        self.comparisons
            .iter()
            .all(|c| c.holds(block) == Some(true))
    }
}

/// The rules of `schema`, or what is wrong with them (the text of the `when` or field at
/// fault, and why).
pub fn read_rules(schema: &Value) -> Result<Vec<KindRule>, (String, String)> {
    let Some(listed) = schema.get(RULES) else {
        return Ok(Vec::new());
    };
    let Some(listed) = listed.as_array() else {
        return Err((RULES.to_string(), format!("`{RULES}` is a list of rules")));
    };
    listed.iter().map(|rule| read_rule(rule, schema)).collect()
}

fn read_rule(rule: &Value, schema: &Value) -> Result<KindRule, (String, String)> {
    let (Some(when), Some(message)) = (
        rule.get("when").and_then(Value::as_str),
        rule.get("message").and_then(Value::as_str),
    ) else {
        return Err((
            RULES.to_string(),
            "each rule has a `when` and a `message`, both strings".to_string(),
        ));
    };
    let comparisons = when
        .split("&&")
        .map(|part| comparison(part.trim(), schema).map_err(|why| (when.to_string(), why)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KindRule {
        when: when.to_string(),
        comparisons,
        message: message.to_string(),
    })
}

fn comparison(text: &str, schema: &Value) -> Result<Comparison, String> {
    const OPS: [(&str, Op); 6] = [
        ("<=", Op::LessOrEqual),
        (">=", Op::GreaterOrEqual),
        ("==", Op::Equal),
        ("!=", Op::NotEqual),
        ("<", Op::Less),
        (">", Op::Greater),
    ];
    let (at, symbol, op) = OPS
        .iter()
        .filter_map(|(symbol, op)| text.find(symbol).map(|at| (at, *symbol, *op)))
        .min_by_key(|(at, symbol, _)| (*at, std::cmp::Reverse(symbol.len())))
        .ok_or_else(|| format!("`{text}` compares nothing: use <, <=, >, >=, == or !="))?;
    let left = operand(text[..at].trim(), schema)?;
    let right = operand(text[at + symbol.len()..].trim(), schema)?;
    if !matches!(left, Operand::Setting(_)) && !matches!(right, Operand::Setting(_)) {
        return Err(format!("`{text}` names no setting"));
    }
    Ok(Comparison { left, op, right })
}

fn operand(text: &str, schema: &Value) -> Result<Operand, String> {
    if text.is_empty() {
        return Err("a comparison needs a value on each side".to_string());
    }
    if let Ok(number) = serde_json::from_str::<serde_json::Number>(text) {
        return Ok(Operand::Literal(Value::Number(number)));
    }
    match text {
        "true" => return Ok(Operand::Literal(Value::Bool(true))),
        "false" => return Ok(Operand::Literal(Value::Bool(false))),
        _ => {}
    }
    if text.starts_with('"') {
        return serde_json::from_str::<String>(text)
            .map(|s| Operand::Literal(Value::String(s)))
            .map_err(|_| format!("`{text}` is not a quoted string"));
    }
    let path: Vec<String> = text.split('.').map(str::to_string).collect();
    let mut node = schema;
    for (i, key) in path.iter().enumerate() {
        let properties = resolve(node, schema)
            .get("properties")
            .and_then(Value::as_object);
        match properties.and_then(|p| p.get(key)) {
            Some(inner) => node = inner,
            None => {
                let known: Vec<&str> = properties
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let near = crate::did_you_mean::did_you_mean(key, known.iter().copied())
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                return Err(format!(
                    "`{}` is no setting of the kind{near}",
                    path[..=i].join(".")
                ));
            }
        }
    }
    Ok(Operand::Setting(path))
}

/// `schema` with a `$ref` into the kind's own `$defs` (or `definitions`) followed.
fn resolve<'s>(schema: &'s Value, root: &'s Value) -> &'s Value {
    let mut at = schema;
    for _ in 0..16 {
        let Some(reference) = at.get("$ref").and_then(Value::as_str) else {
            return at;
        };
        let name = reference
            .strip_prefix("#/$defs/")
            .map(|n| ("$defs", n))
            .or_else(|| {
                reference
                    .strip_prefix("#/definitions/")
                    .map(|n| ("definitions", n))
            });
        match name.and_then(|(key, n)| root.get(key)?.get(n)) {
            Some(next) => at = next,
            None => return at,
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "read": {"type": "object", "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}}},
            "multi-az": {"type": "boolean"}, "replicas": {"type": "integer", "default": 0}
        }, RULES: [
            {"when": "read.min > read.max", "message": "min above max"},
            {"when": "multi-az == true && replicas < 1", "message": "multi-az needs a replica"}
        ]})
    }

    #[test]
    fn rules_refuse_the_blocks_they_describe() {
        let rules = read_rules(&schema()).unwrap();
        assert!(rules[0].refuses(&json!({"read": {"min": 200, "max": 100}})));
        assert!(!rules[0].refuses(&json!({"read": {"min": 100, "max": 100}})));
        assert!(
            !rules[0].refuses(&json!({"read": {"min": 100}})),
            "absent: no finding"
        );
        assert!(rules[1].refuses(&json!({"multi-az": true, "replicas": 0})));
        assert!(!rules[1].refuses(&json!({"multi-az": false, "replicas": 0})));
        assert_eq!(
            rules[1].settings(),
            [&["multi-az".to_string()][..], &["replicas".to_string()][..]]
        );
    }

    #[test]
    fn a_rule_that_names_no_setting_is_refused_with_did_you_mean() {
        let mut bad = schema();
        bad[RULES] = json!([{"when": "read.mni > read.max", "message": "m"}]);
        let (at, why) = read_rules(&bad).unwrap_err();
        assert_eq!(at, "read.mni > read.max");
        assert!(
            why.contains("`read.mni` is no setting") && why.contains("`min`"),
            "{why}"
        );
        bad[RULES] = json!([{"when": "read.min", "message": "m"}]);
        assert!(read_rules(&bad).unwrap_err().1.contains("compares nothing"));
        bad[RULES] = json!([{"when": "1 < 2", "message": "m"}]);
        assert!(read_rules(&bad).unwrap_err().1.contains("names no setting"));
    }
}
