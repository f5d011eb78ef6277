//! `_macros.j2`'s macros as Rust functions. An interpreted macro call costs minijinja about
//! 17,000 instructions, and importing the module another 60,000 a render: together a sixth
//! of a fresh `check`. So the name `_macros.j2` loads [`module`], which binds each macro's
//! name to its function here, while `builtin/_macros.j2` stays the macros as written: their
//! definition, what `envc docs` describes and what a project copies to override them. A test
//! calls every macro both ways and holds the outputs equal, byte for byte.
//!
//! A project's own `_macros.j2` replaces both, as any override does.

mod alarm;

use std::collections::BTreeMap;

use minijinja::value::Value;
use minijinja::{Error, ErrorKind, State};

use super::functions::{
    env_value, export_name, fit, image_parts, import_value, json_text as tojson, no_options,
    variable,
};

/// The global the module's bindings read the functions from.
const GLOBAL: &str = "__envc_macros";

/// Reasons shared by several resources (the module's `aws_managed_key` and `sse_sqs`).
const AWS_MANAGED_KEY: &str = "Encrypted at rest with the AWS managed key; a customer managed key is for cross-account use or key-level control, which nothing here needs, and costs a key per stack.";
const SSE_SQS: &str =
    "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); this check only recognises a KMS key.";

/// The module `{% import "_macros.j2" as m %}` loads: each name bound to its function, in
/// one statement (`{% set header, export, … = __envc_macros %}`), as an import evaluates the
/// module once per render.
pub fn module() -> &'static str {
    static MODULE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    MODULE.get_or_init(|| {
        let names: Vec<&str> = bindings().iter().map(|(name, _)| *name).collect();
        format!("{{% set {} = {GLOBAL} %}}", names.join(", "))
    })
}

/// Makes the functions [`module`] binds visible to it (a list in the order of their names),
/// and the module's value to the import [`with_module_bound`] writes.
pub fn register(env: &mut minijinja::Environment<'static>) {
    let mut names = bindings();
    let functions: Vec<Value> = names.iter().map(|(_, f)| f.clone()).collect();
    env.add_global(GLOBAL, Value::from(functions));
    names.sort_by_key(|(name, _)| *name);
    env.add_global(MODULE_GLOBAL, Value::from_object(Module(names)));
}

/// Macro `name` of `builtin/_macros.j2` as written, from `{% macro name(` to its
/// `{%- endmacro %}`.
pub fn written_definition(name: &str) -> Option<&'static str> {
    let (_, written) = super::builtin::TEMPLATES
        .iter()
        .find(|(template, _)| *template == "_macros.j2")?;
    let start = written.find(&format!("{{% macro {name}("))?;
    const END: &str = "{%- endmacro %}";
    let end = start + written[start..].find(END)? + END.len();
    Some(&written[start..end])
}

/// The import every built-in starts with, and the statement of the same length that binds
/// the same value: an import evaluates the module again for each render and builds its
/// table of names, about 20,000 instructions, and a method call on an imported module
/// builds and drops an error before it finds the function.
const IMPORT: &str = r#"{% import "_macros.j2" as m %}"#;
const BOUND: &str = r#"{% set m = __envc_module    %}"#;
const MODULE_GLOBAL: &str = "__envc_module";

/// `text` with its imports of envc's `_macros.j2` as `m` binding [`Module`] instead. Every
/// byte after one stays where it was, so a problem's place in the template is unchanged.
pub fn with_module_bound(text: &str) -> std::borrow::Cow<'_, str> {
    const _: () = assert!(IMPORT.len() == BOUND.len());
    if text.contains(IMPORT) {
        std::borrow::Cow::Owned(text.replace(IMPORT, BOUND))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// What importing [`module`] gives: each name with its function, by name.
#[derive(Debug)]
struct Module(Vec<(&'static str, Value)>);

impl Module {
    fn get(&self, name: &str) -> Option<&Value> {
        let found = self.0.binary_search_by(|(n, _)| (*n).cmp(name));
        found.ok().map(|index| &self.0[index].1)
    }
}

impl minijinja::value::Object for Module {
    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        self.get(key.as_str()?).cloned()
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        let names = self.0.iter().map(|(name, _)| Value::from(*name));
        minijinja::value::Enumerator::Values(names.collect())
    }

    fn call_method(
        self: &std::sync::Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match self.get(method) {
            Some(function) => function.call(state, args),
            None => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    /// As an imported module writes: what its body wrote, which is nothing.
    fn render(self: &std::sync::Arc<Self>, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

/// Each name `_macros.j2` defines, with its value here.
fn bindings() -> Vec<(&'static str, Value)> {
    vec![
        ("header", Value::from_function(header)),
        ("export", Value::from_function(export)),
        ("hosted_zone_id", Value::from_function(hosted_zone_id)),
        ("image", Value::from_function(image)),
        (
            "image_tag_parameter",
            Value::from_function(image_tag_parameter),
        ),
        ("container_secrets", Value::from_function(container_secrets)),
        (
            "secret_read_statement",
            Value::from_function(secret_read_statement),
        ),
        ("has_secret_refs", Value::from_function(has_secret_refs)),
        (
            "container_environment",
            Value::from_function(container_environment),
        ),
        ("checkov_skip", Value::from_function(checkov_skip_value)),
        ("log_group", Value::from_function(log_group)),
        ("execution_role", Value::from_function(execution_role)),
        ("queue_policies", Value::from_function(queue_policies)),
        ("stateful_policies", Value::from_function(stateful_policies)),
        ("aws_managed_key", Value::from(AWS_MANAGED_KEY)),
        ("sse_sqs", Value::from(SSE_SQS)),
        ("alarm", Value::from_function(alarm::alarm)),
    ]
}

/// `value | dictsort`, as (key, value) pairs.
fn dictsort(value: &Value) -> Result<Vec<(Value, Value)>, Error> {
    pairs(&minijinja::filters::dictsort(value, no_options())?)
}

/// The items of a list of two-item lists, as `for a, b in list` unpacks them: an item of
/// another length is refused, as the loop refuses it.
fn pairs(list: &Value) -> Result<Vec<(Value, Value)>, Error> {
    list.try_iter()?
        .map(|pair| {
            // Text is not unpacked into its characters.
            let items: Vec<Value> = match pair.kind() {
                minijinja::value::ValueKind::String => Vec::new(),
                _ => pair.try_iter()?.collect(),
            };
            match <[Value; 2]>::try_from(items) {
                Ok([first, second]) => Ok((first, second)),
                Err(items) => Err(Error::new(
                    ErrorKind::CannotUnpack,
                    format!("`{pair}` has {} items, not 2", items.len()),
                )),
            }
        })
        .collect()
}

/// `"Retain" if protected else "Delete"`.
fn retain_if(protected: &Value) -> &'static str {
    if protected.is_true() {
        "Retain"
    } else {
        "Delete"
    }
}

fn header(state: &State, what: Value) -> Result<String, Error> {
    let (project, env) = (variable(state, "project")?, variable(state, "env")?);
    let description = format!("{project} {env}: {what} (rendered by envc)");
    Ok(format!(
        "AWSTemplateFormatVersion: \"2010-09-09\"\nDescription: {}",
        tojson(&Value::from(description))?
    ))
}

fn export(state: &mut State, output: Value, value: Value) -> Result<String, Error> {
    let name = export_name(state, &output.to_string())?;
    Ok(format!(
        "  {output}:\n    Value: {value}\n    Export:\n      Name: {name}"
    ))
}

fn hosted_zone_id(state: &State, dns_stack: String) -> Result<String, Error> {
    let dns = variable(state, "config")?.get_attr("dns")?;
    let owner = if !dns.is_none() && dns.get_attr("zone_id")?.is_none() {
        dns.get_attr("zone_owner")?
    } else {
        Value::from(())
    };
    let env = variable(state, "env")?;
    let from_env = (!owner.is_none() && owner != env).then(|| owner.to_string());
    import_value(state, &dns_stack, "HostedZoneId", from_env.as_deref())
}

/// `{"Fn::Sub": "<repository>:${ImageTag}"}` as JSON.
fn sub_image_tag(repository: &Value) -> Result<String, Error> {
    let sub = format!("{repository}:${{ImageTag}}");
    tojson(&Value::from(BTreeMap::from([("Fn::Sub", sub)])))
}

fn image(state: &State, unit: Value) -> Result<String, Error> {
    let image = unit.get_attr("image")?;
    if image.is_none() {
        return sub_image_tag(&variable(state, "image_repository")?);
    }
    match image_parts(image.as_str().map(String::from)) {
        Some(parts) => sub_image_tag(&Value::from(parts[0].as_str())),
        None => tojson(&image),
    }
}

fn image_tag_parameter(state: &State, unit: Value) -> Result<String, Error> {
    let image = unit.get_attr("image")?;
    let parts = image_parts(image.as_str().map(String::from));
    let (default, whose) = match (image.is_none(), &parts) {
        (true, _) => (
            variable(state, "config")?.get_attr("image_tag")?,
            "environment's image".to_string(),
        ),
        (false, Some(parts)) => (Value::from(parts[1].as_str()), parts[0].clone()),
        (false, None) => return Ok(String::new()),
    };
    let description =
        format!("The tag of the {whose} the containers run: envc deploy --image-tag sets it");
    Ok(format!(
        "Parameters:\n  ImageTag:\n    Type: String\n    Default: {}\n    AllowedPattern: \"[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}\"\n    Description: {}\n",
        tojson(&default)?,
        tojson(&Value::from(description))?
    ))
}

/// `ref.ssm` without its leading and trailing `/`.
fn ssm_name(reference: &Value) -> Result<String, Error> {
    let ssm = reference.get_attr("ssm")?.to_string();
    Ok(ssm.trim_matches('/').to_string())
}

/// The ARN of a parameter, or of a secret (`name` with what follows it).
fn arn(state: &State, service: &str, name: &str) -> Result<String, Error> {
    let what = if service == "ssm" {
        "parameter/"
    } else {
        "secret:"
    };
    Ok(format!(
        "arn:{}:{service}:{}:{}:{what}{name}",
        variable(state, "partition")?,
        variable(state, "region")?,
        variable(state, "account")?
    ))
}

/// How a container reads Secrets Manager secret `from`: by its ARN as written; by the
/// complete ARN the stack that makes it exports, when it is the environment's config secret
/// (`!ImportValue …`); else by the partial ARN of its name.
enum SecretArn {
    Written(String),
    Imported(String),
    Partial(String),
}

fn secret_arn(state: &State, from: &str) -> Result<SecretArn, Error> {
    if from.starts_with("arn:") {
        return Ok(SecretArn::Written(from.to_string()));
    }
    let config_secret = variable(state, "config")?.get_attr("config_secret")?;
    let config_stack = variable(state, "kinds")?.get_item(&Value::from("config-secret"))?;
    if config_secret.as_str() == Some(from) && !config_stack.is_undefined() {
        let stack = config_stack.to_string();
        return Ok(SecretArn::Imported(import_value(
            state,
            &stack,
            "SecretArn",
            None,
        )?));
    }
    Ok(SecretArn::Partial(arn(state, "secretsmanager", from)?))
}

fn container_secrets(state: &State, secrets: Value) -> Result<String, Error> {
    let mut out = String::new();
    for (name, reference) in dictsort(&secrets)? {
        let value_from = if !reference.get_attr("ssm")?.is_none() {
            tojson(&Value::from(arn(state, "ssm", &ssm_name(&reference)?)?))?
        } else {
            let key = reference.get_attr("key")?;
            let key = if key.is_none() {
                String::new()
            } else {
                format!(":{key}::")
            };
            match secret_arn(state, &reference.get_attr("from")?.to_string())? {
                SecretArn::Imported(import) if key.is_empty() => import,
                SecretArn::Imported(import) => {
                    format!("!Join [\"\", [{import}, {}]]", tojson(&Value::from(key))?)
                }
                SecretArn::Written(arn) | SecretArn::Partial(arn) => {
                    tojson(&Value::from(arn + &key))?
                }
            }
        };
        out += &format!(
            "            - Name: {}\n              ValueFrom: {value_from}\n",
            tojson(&name)?,
        );
    }
    Ok(out)
}

fn secret_read_statement(state: &State, secrets: Value) -> Result<String, Error> {
    let (mut names, mut params) = (Vec::<String>::new(), Vec::<String>::new());
    for (_, reference) in dictsort(&secrets)? {
        let from = reference.get_attr("from")?;
        if !from.is_none() && !names.contains(&from.to_string()) {
            names.push(from.to_string());
        }
        if !reference.get_attr("ssm")?.is_none() {
            params.push(ssm_name(&reference)?);
        }
    }
    let mut out = String::new();
    let statement = |action: &str| {
        format!("              - Effect: Allow\n                Action: {action}\n                Resource:\n")
    };
    let item = |text: String| format!("                  - {text}\n");
    if !names.is_empty() {
        out += &statement("secretsmanager:GetSecretValue");
        for name in &names {
            match secret_arn(state, name)? {
                SecretArn::Written(arn) => {
                    out += &item(tojson(&Value::from(arn.clone()))?);
                    out += &item(tojson(&Value::from(arn + "-*"))?);
                }
                SecretArn::Imported(import) => out += &item(import),
                SecretArn::Partial(arn) => out += &item(tojson(&Value::from(arn + "-*"))?),
            }
        }
    }
    if !params.is_empty() {
        out += &statement("ssm:GetParameters");
        for param in &params {
            out += &item(tojson(&Value::from(arn(state, "ssm", param)?))?);
        }
    }
    Ok(out)
}

fn has_secret_refs(secrets: Value) -> Result<String, Error> {
    let mut out = String::new();
    for (_, reference) in dictsort(&secrets)? {
        if !reference.get_attr("from")?.is_none() || !reference.get_attr("ssm")?.is_none() {
            out += "yes";
        }
    }
    Ok(out)
}

fn container_environment(state: &State, variables: Value, extra: Value) -> Result<String, Error> {
    let mut written = Vec::new();
    for (name, value) in dictsort(&variables)? {
        written.push((name, Value::from(env_value(state, value)?)));
    }
    let mut out = String::new();
    for (name, value) in written.into_iter().chain(pairs(&extra)?) {
        out += &format!(
            "            - Name: {}\n              Value: {value}\n",
            tojson(&name)?
        );
    }
    Ok(out)
}

fn checkov_skip_value(skips: Value) -> Result<String, Error> {
    if !skips.is_true() {
        return Ok(String::new());
    }
    checkov_skip(&pairs(&skips)?)
}

fn checkov_skip(skips: &[(Value, Value)]) -> Result<String, Error> {
    if skips.is_empty() {
        return Ok(String::new());
    }
    let mut out = "    Metadata:\n      checkov:\n        skip:\n".to_string();
    for (id, reason) in skips {
        out.push_str("          - id: ");
        out.push_str(&id.to_string());
        out.push_str("\n            comment: ");
        out.push_str(&tojson(reason)?);
        out.push('\n');
    }
    Ok(out)
}

fn aws_managed_key_skip(id: &str) -> Result<String, Error> {
    checkov_skip(&[(Value::from(id), Value::from(AWS_MANAGED_KEY))])
}

fn log_group(state: &State, name: Value) -> Result<String, Error> {
    let policy = retain_if(&variable(state, "protected")?);
    let retention = variable(state, "config")?.get_attr("log_retention_days")?;
    Ok(format!(
        "  LogGroup:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: {policy}\n    UpdateReplacePolicy: {policy}\n    Properties:\n      LogGroupName: {}\n      RetentionInDays: {retention}\n{}",
        tojson(&name)?,
        aws_managed_key_skip("CKV_AWS_158")?
    ))
}

fn execution_role(state: &State, name: String, secrets: Value) -> Result<String, Error> {
    let managed = format!(
        "arn:{}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        variable(state, "partition")?
    );
    let mut out = format!(
        "  ExecutionRole:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: {}\n      AssumeRolePolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n            Principal:\n              Service: ecs-tasks.amazonaws.com\n            Action: sts:AssumeRole\n      ManagedPolicyArns:\n        - {}\n",
        tojson(&Value::from(fit(&name, 64)))?,
        tojson(&Value::from(managed))?
    );
    if !has_secret_refs(secrets.clone())?.is_empty() {
        out += "      Policies:\n        - PolicyName: read-container-secrets\n          PolicyDocument:\n            Version: \"2012-10-17\"\n            Statement:\n";
        out += &secret_read_statement(state, secrets)?;
        out += "\n";
    }
    Ok(out)
}

fn queue_policies() -> Result<String, Error> {
    let skip = checkov_skip(&[(Value::from("CKV_AWS_27"), Value::from(SSE_SQS))])?;
    Ok(format!(
        "    DeletionPolicy: Delete\n    UpdateReplacePolicy: Delete\n{skip}"
    ))
}

fn stateful_policies(protected: Value) -> String {
    let policy = retain_if(&protected);
    format!("    DeletionPolicy: {policy}\n    UpdateReplacePolicy: {policy}")
}

#[cfg(test)]
mod tests;
