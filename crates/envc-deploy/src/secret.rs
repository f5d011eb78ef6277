//! The environment's configuration secret (`envc secret`): a JSON object in Secrets
//! Manager, created `{}` by the config stack and filled key by key. Values come from standard
//! input or a file, never from an argument, and are never shown; keys are listed beside the
//! keys the environment's containers read from it, so a missing one shows before a deploy
//! starts tasks that would fail with `ResourceInitializationError`.

use serde_json::{Map, Value};

use super::clients::{aws_failure, error_message, Clients};
use super::DeployTarget;
use envc_core::diagnostic::{Code, Diagnostic};

/// Secrets Manager's limit on a secret's value.
pub const MAX_SECRET_BYTES: usize = 65_536;

/// The keys of the configuration secret, and those containers read that it lacks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SecretKeys {
    pub secret: String,
    pub keys: Vec<String>,
    /// Keys a container of a stack reads (`secret "X" from=… key="K"`): (key, stack).
    pub referenced: Vec<(String, String)>,
    /// Referenced keys the secret lacks.
    pub missing: Vec<String>,
}

impl SecretKeys {
    /// The stacks whose containers read `key`.
    pub fn readers(&self, key: &str) -> Vec<&str> {
        self.referenced
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, stack)| stack.as_str())
            .collect()
    }
}

/// What `envc secret set` did.
#[derive(Debug, Clone)]
pub struct Set {
    pub secret: String,
    pub keys_set: Vec<String>,
    pub keys: usize,
}

/// The name of `target`'s configuration secret, or why it has none.
fn secret_name(target: &DeployTarget) -> Result<&str, Diagnostic> {
    target.config_secret.as_deref().ok_or_else(|| {
        Diagnostic::error(
            Code::SecretKey,
            format!("`{}` has no configuration secret", target.env),
        )
        .help(
            "name one with `config-secret \"NAME\"` in the environment and deploy its config stack",
        )
    })
}

/// A key a container can read: a task's `valueFrom` names it after the secret's ARN and a
/// `:` (`arn:…:secret:NAME:KEY::`), so it holds no `:`, and it is a name, not empty and
/// without control characters.
pub fn check_key(key: &str) -> Result<(), Diagnostic> {
    let problem = if key.trim().is_empty() {
        "a key is empty"
    } else if key.contains(':') {
        "a key holds `:`"
    } else if key.chars().any(char::is_control) {
        "a key holds a control character"
    } else {
        return Ok(());
    };
    Err(Diagnostic::error(Code::SecretKey, problem).help(
        "a container reads a key by name after a `:` (`arn:…:secret:NAME:KEY::`): name it with letters, digits and `_`, like `DATABASE_URL`",
    ))
}

/// Sets `key` to `value` (or, without a key, each key of the JSON object `value`), keeping
/// the secret's other keys.
pub async fn set(target: &DeployTarget, key: Option<&str>, value: &str) -> Result<Set, Diagnostic> {
    let name = secret_name(target)?.to_string();
    let new: Map<String, Value> = match key {
        Some(key) => Map::from_iter([(key.to_string(), Value::String(value.to_string()))]),
        None => match serde_json::from_str(value) {
            Ok(Value::Object(keys)) => keys,
            _ => {
                return Err(Diagnostic::error(
                    Code::SecretKey,
                    "without a KEY, the input must be a JSON object of keys to set",
                )
                .help("give one key: `envc secret set ENV KEY --stdin`"))
            }
        },
    };
    for key in new.keys() {
        check_key(key)?;
    }
    let clients = Clients::to_change(&target.aws, &target.env).await?;
    let mut keys = current(&clients, &name).await?;
    let keys_set: Vec<String> = new.keys().cloned().collect();
    keys.extend(new);
    let text = serde_json::to_string(&keys).expect("a JSON object serialises");
    if text.len() > MAX_SECRET_BYTES {
        return Err(Diagnostic::error(
            Code::SecretKey,
            format!(
                "`{name}` would hold {} bytes; Secrets Manager holds at most {MAX_SECRET_BYTES}",
                text.len()
            ),
        ));
    }
    clients
        .secretsmanager
        .put_secret_value()
        .secret_id(&name)
        .secret_string(text)
        .client_request_token(super::clients::request_token("secret"))
        .send()
        .await
        .map_err(|e| aws_failure(&format!("cannot write `{name}`"), error_message(&e)))?;
    Ok(Set {
        secret: name,
        keys_set,
        keys: keys.len(),
    })
}

/// The secret's keys beside those the environment's containers read.
pub async fn list(target: &DeployTarget) -> Result<SecretKeys, Diagnostic> {
    let clients = Clients::new(&target.aws).await?;
    list_with(&clients, target).await
}

/// [`list`] with clients made already.
pub async fn list_with(clients: &Clients, target: &DeployTarget) -> Result<SecretKeys, Diagnostic> {
    let name = secret_name(target)?.to_string();
    let keys: Vec<String> = current(clients, &name).await?.keys().cloned().collect();
    let referenced = referenced_keys(target, &name);
    let mut missing: Vec<String> = referenced
        .iter()
        .map(|(key, _)| key.clone())
        .filter(|key| !keys.contains(key))
        .collect();
    // Each key once, though several stacks read it (in the order first read).
    let mut seen = std::collections::HashSet::new();
    missing.retain(|key| seen.insert(key.clone()));
    Ok(SecretKeys {
        secret: name,
        keys,
        referenced,
        missing,
    })
}

/// The secret's keys now (none for a secret that holds no value yet).
async fn current(clients: &Clients, name: &str) -> Result<Map<String, Value>, Diagnostic> {
    let read = clients
        .secretsmanager
        .get_secret_value()
        .secret_id(name)
        .send()
        .await;
    let text = match read {
        // A secret without text is binary, or an answer cut short: never read as no keys,
        // which `set` would write back over it.
        Ok(value) => match value.secret_string() {
            Some(text) => text.to_string(),
            None => {
                return Err(Diagnostic::error(
                    Code::SecretKey,
                    format!("`{name}` holds no JSON text to add keys to"),
                )
                .help("it holds a binary value, or the answer was cut short; envc keeps the configuration secret as a JSON object of keys (start it again from `{}` in the console), or run it again"))
            }
        },
        Err(error) => {
            let message = error_message(&error);
            if message.contains("ResourceNotFound") && message.contains("version") {
                "{}".to_string()
            } else if message.contains("ResourceNotFound") {
                return Err(aws_failure(&format!("`{name}` does not exist"), message).help(
                    "deploy the environment's config stack first: `envc deploy ENV --stack config`",
                ));
            } else {
                return Err(aws_failure(&format!("cannot read `{name}`"), message));
            }
        }
    };
    match serde_json::from_str(&text) {
        Ok(Value::Object(keys)) => {
            // Never shown, even where an answer to a later call echoes them.
            for value in keys.values().filter_map(Value::as_str) {
                crate::credentials::remember_value(value);
            }
            Ok(keys)
        }
        _ => Err(Diagnostic::error(
            Code::SecretKey,
            format!("`{name}` holds text that is not a JSON object"),
        )
        .help("envc keeps the configuration secret as a JSON object of keys; set it whole in the console, or start again from `{}`")),
    }
}

/// Keys of secret `name` that the environment's task definitions read, with the stack that
/// reads each: a `ValueFrom` of `arn:…:secret:NAME:KEY::`, or, for the secret a stack of the
/// environment makes, `!Join ["", [!ImportValue <its SecretArn export>, ":KEY::"]]`.
pub fn referenced_keys(target: &DeployTarget, name: &str) -> Vec<(String, String)> {
    let mut needles = vec![format!(":secret:{name}:")];
    let made_by = target.stacks.iter().find(|stack| {
        stack.body.contains(&format!("Name: {name}\n"))
            && stack
                .template
                .exports
                .iter()
                .any(|e| e.ends_with("-SecretArn"))
    });
    if let Some(stack) = made_by {
        for export in stack
            .template
            .exports
            .iter()
            .filter(|e| e.ends_with("-SecretArn"))
        {
            needles.push(format!("!ImportValue {export}, \":"));
        }
    }
    let mut found = Vec::new();
    for stack in &target.stacks {
        for needle in &needles {
            let mut rest = stack.body.as_str();
            while let Some(at) = rest.find(needle.as_str()) {
                rest = &rest[at + needle.len()..];
                let key: String = rest
                    .chars()
                    .take_while(|c| *c != ':' && *c != '"' && !c.is_whitespace())
                    .collect();
                if !key.is_empty() && !found.iter().any(|(k, s)| *k == key && *s == stack.stack) {
                    found.push((key, stack.stack.clone()));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_names_a_container_can_read() {
        for good in ["DATABASE_URL", "api-token", "A=B", "ünïcode"] {
            assert!(super::check_key(good).is_ok(), "{good}");
        }
        for bad in ["", "  ", "A:B", "A\nB", "A\u{1}B"] {
            assert!(super::check_key(bad).is_err(), "{bad:?}");
        }
    }
}
