//! `envc secret set` and `envc secret list`: the environment's configuration secret, key by
//! key. A value is read from standard input or a file, learned by the redactor before
//! anything is printed, and never shown.

use std::io::Read;
use std::path::{Path, PathBuf};

use envc_core::diagnostic::{Code, Diagnostic};
use envc_core::source::SourceMap;
use envc_deploy::secret::MAX_SECRET_BYTES;

use super::deploy::{runtime, target};
use super::output::outln;
use super::report::Format;
use super::{print_diagnostics, AwsArgs, Cli};

#[derive(Debug, clap::Subcommand)]
pub enum SecretCommand {
    /// Set KEY (or, without it, each key of a JSON object) in ENV's configuration secret,
    /// keeping its other keys. Exit 0 set, 1 refused, 2 usage, 3 AWS could not be asked.
    Set {
        env: String,
        key: Option<String>,
        /// Never taken: a value given as an argument is refused without being shown (it would
        /// be in the shell's history and the process list).
        #[arg(hide = true)]
        value: Option<String>,
        /// Read the value from standard input (one line break at its end dropped).
        #[arg(
            long,
            conflicts_with = "from_file",
            required_unless_present_any = ["from_file", "value"]
        )]
        stdin: bool,
        /// Read the value from this file.
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// The keys of ENV's configuration secret (never the values), and the keys its containers
    /// read that it lacks. Exit 0 none missing, 1 some missing, 3 AWS could not be asked.
    List {
        env: String,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

/// Runs `envc secret …`; the exit code.
pub fn run(cli: &Cli, command: &SecretCommand, color: bool) -> i32 {
    match command {
        SecretCommand::Set {
            value: Some(value), ..
        } => {
            super::output::learn_value(value);
            let problem = Diagnostic::error(Code::SecretValue, "a value is never an argument")
                .help("an argument stays in the shell's history and the process list: give the value on standard input (`--stdin`) or in a file (`--from-file F`)");
            print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
            2
        }
        SecretCommand::Set {
            env,
            key,
            stdin,
            from_file,
            aws,
            value: None,
        } => run_set(
            cli,
            env,
            key.as_deref(),
            *stdin,
            from_file.as_deref(),
            aws,
            color,
        ),
        SecretCommand::List { env, format, aws } => run_list(cli, env, *format, aws, color),
    }
}

/// The value to set: standard input, or a file (relative to `-C DIR`), one line break at the
/// end dropped; never empty.
fn read_value(cli: &Cli, stdin: bool, file: Option<&Path>) -> Result<String, Diagnostic> {
    let problem = |message: String, help: &str| {
        Diagnostic::error(Code::SecretValue, message).help(help.to_string())
    };
    let mut bytes = Vec::new();
    let limit = MAX_SECRET_BYTES as u64 + 1;
    match (stdin, file) {
        (true, _) => std::io::stdin()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| problem(format!("cannot read the value from standard input: {e}"), "pipe the value in, like `printf %s \"$TOKEN\" | envc secret set ENV KEY --stdin`"))?,
        (false, Some(file)) => {
            let path = cli.dir.join(file);
            let shown = file.display();
            let cannot = |e: std::io::Error| {
                problem(format!("cannot read the value from `{shown}`: {e}"), "give a file that holds the value")
            };
            // A FIFO or a device would block or never end: only a file is read.
            if !std::fs::metadata(&path).map_err(cannot)?.is_file() {
                return Err(problem(format!("`{shown}` is not a file"), "give a file that holds the value, or pipe it in with `--stdin`"));
            }
            std::fs::File::open(&path)
                .and_then(|f| f.take(limit).read_to_end(&mut bytes))
                .map_err(cannot)?
        }
        (false, None) => {
            return Err(problem(
                "no value given".to_string(),
                "give the value on standard input (`--stdin`) or in a file (`--from-file F`)",
            ))
        }
    };
    if bytes.len() > MAX_SECRET_BYTES {
        return Err(problem(
            format!("the value is over {MAX_SECRET_BYTES} bytes, Secrets Manager's limit"),
            "keep large files out of the configuration secret (an S3 object, read by the service, holds them)",
        ));
    }
    let mut text = String::from_utf8(bytes).map_err(|_| {
        problem(
            "the value is not UTF-8 text".to_string(),
            "a secret's value here is text; encode binary data (base64) first",
        )
    })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        return Err(problem(
            "the value is empty".to_string(),
            "nothing was read (a command before the pipe that failed, a variable that is not set): give the value on standard input or in a file",
        ));
    }
    Ok(text)
}

fn run_set(
    cli: &Cli,
    env: &str,
    key: Option<&str>,
    stdin: bool,
    file: Option<&Path>,
    aws: &AwsArgs,
    color: bool,
) -> i32 {
    let value = key
        .map_or(Ok(()), envc_deploy::secret::check_key)
        .and_then(|()| read_value(cli, stdin, file));
    let value = match value {
        Ok(value) => value,
        Err(problem) => {
            print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
            return 2;
        }
    };
    // Masked in everything printed from here on, whatever prints it.
    super::output::learn_value(&value);
    if let Ok(serde_json::Value::Object(keys)) = serde_json::from_str::<serde_json::Value>(&value) {
        for value in keys.values().filter_map(|v| v.as_str()) {
            super::output::learn_value(value);
        }
    }
    let target = match target(cli, env, aws, envc_core::Stages::Render, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    match runtime().block_on(envc_deploy::secret::set(&target, key, &value)) {
        Ok(set) => {
            outln!(
                "set {} in `{}` ({} key{} in all); the value is not shown",
                set.keys_set.join(", "),
                set.secret,
                set.keys,
                if set.keys == 1 { "" } else { "s" }
            );
            0
        }
        Err(problem) => {
            // 3 only where AWS could not be asked; a refusal (AWS's, or envc's: another
            // account, a secret that is not a JSON object) is 1.
            let asked = match problem.code {
                envc_core::diagnostic::Code::Aws => {
                    !envc_deploy::clients::could_not_ask(&problem.message)
                }
                envc_core::diagnostic::Code::Endpoint => false,
                _ => true,
            };
            let code = if asked { 1 } else { 3 };
            print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
            code
        }
    }
}

fn run_list(cli: &Cli, env: &str, format: Format, aws: &AwsArgs, color: bool) -> i32 {
    let target = match target(cli, env, aws, envc_core::Stages::Render, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let listed = match runtime().block_on(envc_deploy::secret::list(&target)) {
        Ok(listed) => listed,
        Err(problem) => {
            let code = if problem.code == envc_core::diagnostic::Code::SecretKey {
                1
            } else {
                3
            };
            print_diagnostics(&[problem], &SourceMap::default(), format, color);
            return code;
        }
    };
    match format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&listed).unwrap_or_default()
        ),
        Format::Github => {
            for key in &listed.missing {
                outln!("::error title=missing secret key::`{}` has no key `{key}`, which a container of `{env}` reads", listed.secret);
            }
        }
        Format::Human => {
            outln!(
                "{} ({} key{}):",
                listed.secret,
                listed.keys.len(),
                if listed.keys.len() == 1 { "" } else { "s" }
            );
            for key in &listed.keys {
                let readers = listed.readers(key);
                // A key as the secret holds it, its line breaks and escape codes written out.
                let key = super::output::one_line(key);
                match readers.as_slice() {
                    [] => outln!("  {key}"),
                    stacks => outln!("  {key}  (read by {})", stacks.join(", ")),
                }
            }
            for key in &listed.missing {
                let readers = listed.readers(key);
                outln!("  {key}  MISSING: read by {}; its tasks fail to start until it is set (`envc secret set {env} {key} --stdin`)", readers.join(", "));
            }
        }
    }
    i32::from(!listed.missing.is_empty())
}
