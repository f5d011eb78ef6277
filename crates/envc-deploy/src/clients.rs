//! AWS clients from the standard chain (profile, region, endpoint), with retries for
//! throttling, 5xx and dropped connections, and errors turned into diagnostics.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

use envc_core::diagnostic::{Code, Diagnostic};

use crate::credentials::{TimedCredentials, CREDENTIALS_WAIT};

/// Where and as whom to talk to AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsTarget {
    pub region: String,
    pub profile: Option<String>,
    /// A local emulator, like `http://127.0.0.1:5000`; also read from `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// The account the environment is in (`account`): where its stacks must go.
    pub account: String,
    /// `deploy-role`: assumed through STS with the credentials of the chain, for an
    /// environment in an account of its own.
    pub role: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Clients {
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub secretsmanager: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Clients for `target`; an unknown `--profile` is a problem before any call.
    pub async fn new(target: &AwsTarget) -> Result<Clients, Diagnostic> {
        let endpoint = endpoint(target.endpoint_url.as_deref())?;
        if let Some(profile) = &target.profile {
            check_profile(profile).await?;
        }
        Ok(Clients::connect(target, endpoint).await)
    }

    async fn connect(target: &AwsTarget, endpoint: Option<&str>) -> Clients {
        let https = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https)
            .region(aws_config::Region::new(target.region.clone()))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(6)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(10)),
            )
            // An endpoint that takes connections and never answers held a call for six
            // attempts of 30 s, three minutes without a word: a call gives up after a minute.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(profile) = &target.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let mut config = loader.load().await;
        if let Some(chain) = config.credentials_provider() {
            config = config
                .into_builder()
                .credentials_provider(TimedCredentials::shared(chain, CREDENTIALS_WAIT))
                .build();
        }
        if let Some(role) = &target.role {
            let assumed = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name("envc-deploy")
                .configure(&config)
                .build()
                .await;
            config = config
                .into_builder()
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(assumed),
                )
                .build();
        }
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            // Emulators serve buckets by path, not by host name.
            .force_path_style(endpoint.is_some())
            .build();
        Clients {
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            sts: aws_sdk_sts::Client::new(&config),
            ecs: aws_sdk_ecs::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            secretsmanager: aws_sdk_secretsmanager::Client::new(&config),
        }
    }

    /// Clients for a command that writes: [`Clients::new`], and the account check.
    pub async fn to_change(target: &AwsTarget, env: &str) -> Result<Clients, Diagnostic> {
        let clients = Clients::new(target).await?;
        clients.check_account(target, env).await?;
        Ok(clients)
    }

    /// Before anything is written: the credentials (after `deploy-role`) must be the
    /// environment's account's (STS GetCallerIdentity), so prod settings never land in dev's
    /// account, or the reverse.
    pub async fn check_account(&self, target: &AwsTarget, env: &str) -> Result<(), Diagnostic> {
        let identity = self.sts.get_caller_identity().send().await.map_err(|e| {
            let message = error_message(&e);
            match &target.role {
                Some(role) => aws_failure(
                    &format!("cannot assume `{role}` or ask whose credentials these are"),
                    message,
                ),
                None => aws_failure("cannot ask STS whose credentials these are", message),
            }
        })?;
        let actual = identity.account().unwrap_or_default();
        if actual == target.account {
            return Ok(());
        }
        let who = identity.arn().unwrap_or("these credentials");
        let help = match &target.role {
            Some(role) => format!("`{role}` led to account {actual}: give `{env}` a `deploy-role` in account {}", target.account),
            None => format!(
                "use credentials of account {} (`--profile`, `AWS_PROFILE`), or give `{env}` a `deploy-role \"arn:aws:iam::{}:role/NAME\"` these credentials may assume",
                target.account, target.account
            ),
        };
        Err(Diagnostic::error(
            Code::WrongAccount,
            format!(
                "the credentials are for account {actual} ({who}), but `{env}` is in account {}: nothing was changed",
                target.account
            ),
        )
        .help(help))
    }
}

/// A named profile must be in the AWS config or credentials file; the SDK would otherwise
/// go on without credentials and fail later with a message that does not name it.
async fn check_profile(name: &str) -> Result<(), Diagnostic> {
    use aws_runtime::env_config::file::EnvConfigFiles;
    use aws_types::os_shim_internal::{Env, Fs};
    let loaded = aws_config::profile::parser::load(
        &Fs::real(),
        &Env::real(),
        &EnvConfigFiles::default(),
        None,
    )
    .await;
    let profiles = match loaded {
        Ok(profiles) => profiles,
        Err(error) => {
            return Err(Diagnostic::error(
                Code::Aws,
                format!("cannot read the AWS config files for profile `{name}`: {error}"),
            )
            .help("fix `~/.aws/config` (or `AWS_CONFIG_FILE`), or leave out `--profile`"))
        }
    };
    if profiles.get_profile(name).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = profiles.profiles().collect();
    let help = envc_core::did_you_mean::did_you_mean(name, known.iter().copied()).unwrap_or_else(|| {
        if known.is_empty() {
            "no profiles are defined; run `aws configure --profile NAME`, or leave out `--profile`".to_string()
        } else {
            format!("the profiles defined are: {}", known.join(", "))
        }
    });
    Err(Diagnostic::error(
        Code::Aws,
        format!("there is no AWS profile `{name}` in `~/.aws/config` or `~/.aws/credentials`"),
    )
    .help(help))
}

/// The message AWS gave for a failed call, without the SDK's wrapping.
pub fn error_message<E>(error: &aws_sdk_cloudformation::error::SdkError<E>) -> String
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_cloudformation::error::SdkError;
    match error {
        SdkError::ServiceError(service) => {
            let meta = service.err();
            match (meta.code(), meta.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (None, Some(message)) => message.to_string(),
                (Some(code), None) => code.to_string(),
                (None, None) => unparsed_response(service.raw()),
            }
        }
        SdkError::DispatchFailure(failure) => {
            // The whole chain: "dispatch failure: io error: …: Connection refused (os error 111)".
            let chain = aws_sdk_cloudformation::error::DisplayErrorContext(error).to_string();
            let detail = chain.strip_prefix("dispatch failure: ").unwrap_or(&chain);
            let detail = detail.lines().next().unwrap_or_default();
            // The SDK's kind of a failure that is neither I/O nor a timeout, not the user's.
            let detail = detail.strip_prefix("other: ").unwrap_or(detail);
            let detail = detail
                .split(" (DispatchFailure")
                .next()
                .unwrap_or_default()
                .trim_end_matches(':')
                .to_string();
            if failure.is_io() || failure.is_timeout() {
                format!("could not reach AWS ({detail})")
            } else {
                format!("could not send the request ({detail})")
            }
        }
        SdkError::TimeoutError(_) => "AWS did not answer in time".to_string(),
        SdkError::ResponseError(response) => unparsed_response(response.raw()),
        other => other.to_string(),
    }
}

/// What AWS answered when the SDK could not read an error code from it: the HTTP status
/// and the start of the body, so the user sees AWS's own words.
fn unparsed_response(raw: &aws_sdk_cloudformation::config::http::HttpResponse) -> String {
    let body = raw
        .body()
        .bytes()
        .map(|b| {
            String::from_utf8_lossy(b)
                .chars()
                .take(300)
                .collect::<String>()
        })
        .unwrap_or_default();
    let status = raw.status().as_u16();
    if (200..300).contains(&status) {
        // A success envc cannot read: the request may well have been done.
        return format!("{ANSWER_UNREAD} (HTTP {status}): {}", body.trim());
    }
    format!(
        "AWS answered HTTP {status} without an error code envc could read: {}",
        body.trim()
    )
}

/// How a failed call's message begins when AWS answered with success in a form envc could
/// not read: whether the request was done is not known.
const ANSWER_UNREAD: &str = "AWS answered, but not in a form envc could read";

/// Whether a failed call's message says the answer could not be read, so the request may
/// have been done.
pub fn answer_unread(message: &str) -> bool {
    message.contains(ANSWER_UNREAD)
}

/// Whether a failed call's message says AWS could not be asked (unreachable, silent, or the
/// credentials refused), rather than that it refused the request itself.
pub fn could_not_ask(message: &str) -> bool {
    unreachable(message) || credentials_refused(message)
}

fn unreachable(message: &str) -> bool {
    [
        "could not reach",
        "did not answer",
        "could not send",
        "no credentials",
    ]
    .iter()
    .any(|m| message.contains(m))
}

fn credentials_refused(message: &str) -> bool {
    [
        "ExpiredToken",
        "credentials",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClient",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// A diagnostic for a failed AWS call; `message` is AWS's code and message.
pub fn aws_failure(what: &str, message: String) -> Diagnostic {
    let help = if unreachable(&message) {
        "check the network, `--region`, and `--endpoint-url`/`AWS_ENDPOINT_URL` if you use an emulator"
    } else if credentials_refused(&message) {
        "refresh your credentials (`aws sso login`, `--profile`)"
    } else if message.contains("AccessDenied") {
        "the credentials in use lack a permission this needs"
    } else if answer_unread(&message) {
        "whether AWS did it is not known: `envc status ENV` shows the stacks as they are (a proxy or endpoint between envc and AWS may have changed the answer)"
    } else {
        "AWS refused the call for the reason it gives; nothing was changed by it"
    };
    Diagnostic::error(Code::Aws, format!("{what}: {message}")).help(help)
}

/// A failed AWS call as envc says it: what could not be done, AWS's own code and message
/// (`error_message`), and help for the usual causes (`aws_failure`).
pub trait OrFailure<T> {
    /// The error as a diagnostic that starts with `what()`, such as "cannot read stack `x`".
    fn or_failure(self, what: impl FnOnce() -> String) -> Result<T, Diagnostic>;
}

impl<T, E> OrFailure<T> for Result<T, aws_sdk_cloudformation::error::SdkError<E>>
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    fn or_failure(self, what: impl FnOnce() -> String) -> Result<T, Diagnostic> {
        self.map_err(|error| aws_failure(&what(), error_message(&error)))
    }
}

/// `--endpoint-url` (or `AWS_ENDPOINT_URL`, which it reads) as the SDK takes it: an empty
/// flag is unset, and anything else is an `http` or `https` URL with a host, or a problem
/// before any call. The SDK also reads `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
/// itself, and panics on an empty one (CI often exports a variable empty): such a variable is
/// a problem too, naming it.
pub fn endpoint(given: Option<&str>) -> Result<Option<&str>, Diagnostic> {
    let empty_variable = std::env::vars_os().find_map(|(name, value)| {
        let name = name.to_str()?;
        (name.starts_with("AWS_ENDPOINT_URL") && value.to_str()?.trim().is_empty())
            .then(|| name.to_string())
    });
    if let Some(name) = empty_variable {
        return Err(Diagnostic::error(
            Code::Endpoint,
            format!("`{name}` is set, and empty"),
        )
        .help(format!("unset it (`unset {name}`) to ask AWS itself, or set it to an emulator's URL, like `http://127.0.0.1:5000`")));
    }
    let Some(url) = given.filter(|url| !url.trim().is_empty()) else {
        return Ok(None);
    };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let authority = rest.map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    let well_formed = url.len() <= 2048
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && authority.is_some_and(is_authority);
    if well_formed {
        return Ok(Some(url));
    }
    Err(Diagnostic::error(
        Code::Endpoint,
        "`--endpoint-url` (or `AWS_ENDPOINT_URL`) is not an http or https URL with a host",
    )
    .help(
        "give an emulator's URL, like `http://127.0.0.1:5000`, or leave it out to ask AWS itself",
    ))
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`, with a port of 1 to 65535.
fn is_authority(authority: &str) -> bool {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let Some((address, rest)) = v6.split_once(']') else {
                return false;
            };
            match rest {
                "" => (address, None),
                rest => match rest.strip_prefix(':') {
                    Some(port) => (address, Some(port)),
                    None => return false,
                },
            }
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port_ok = port.is_none_or(|port| port.parse::<u16>().is_ok_and(|p| p > 0));
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    port_ok && host_ok
}

/// A fresh token for one write to AWS (CloudFormation's `ClientRequestToken` and `ClientToken`,
/// Secrets Manager's `ClientRequestToken`). The SDK resends a request whose answer was lost (a
/// dropped connection, a 5xx); with the same token AWS knows the resent one for the request it
/// already did, where without one a resent CreateStack fails with `AlreadyExistsException` on
/// the stack it just made. CloudFormation takes 1 to 128 characters of `[a-zA-Z][-a-zA-Z0-9]*`
/// and Secrets Manager 32 to 64, so the token is `envc-{what}-` and a fixed-width hexadecimal
/// process id, time and count: unique across processes and calls, and as long whatever the
/// process id (a short one in a container once made a 31-character token that Secrets Manager
/// refused).
pub fn request_token(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    token_of(
        what,
        std::process::id(),
        millis,
        NEXT.fetch_add(1, Ordering::Relaxed),
    )
}

fn token_of(what: &str, process: u32, millis: u64, count: u32) -> String {
    format!(
        "envc-{what}-{process:08x}{:012x}{count:08x}",
        millis & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::{request_token, token_of};

    /// What both CloudFormation (1 to 128 of `[a-zA-Z][-a-zA-Z0-9]*`) and Secrets Manager (32 to
    /// 64 characters) accept.
    fn assert_accepted(token: &str) {
        assert!((32..=64).contains(&token.len()), "{token}");
        assert!(
            token.starts_with(|c: char| c.is_ascii_alphabetic()),
            "{token}"
        );
        assert!(
            token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{token}"
        );
    }

    #[test]
    fn an_endpoint_is_an_http_url_with_a_host_and_empty_is_unset() {
        use super::endpoint;
        for unset in [None, Some(""), Some("  ")] {
            assert_eq!(endpoint(unset).unwrap(), None);
        }
        for good in [
            "http://127.0.0.1:5000",
            "https://localhost",
            "http://[::1]:4566/",
            "http://moto:5000/path",
        ] {
            assert_eq!(endpoint(Some(good)).unwrap(), Some(good), "{good}");
        }
        for bad in [
            "notaurl",
            "http://[::1",
            "http://",
            "http://127.0.0.1:5000 ",
            "http://127.0.0.1:5000\n",
            "http://host:0",
            "http://host:99999",
            "ftp://host",
            "http://hôst",
        ] {
            let problem = endpoint(Some(bad)).unwrap_err();
            assert_eq!(problem.code, envc_core::diagnostic::Code::Endpoint, "{bad}");
            assert!(!problem.message.contains(bad.trim()), "echoes {bad:?}");
        }
    }

    #[test]
    fn request_tokens_are_unique_and_what_cloudformation_and_secrets_manager_accept() {
        let tokens: std::collections::HashSet<String> =
            (0..1000).map(|_| request_token("create")).collect();
        assert_eq!(tokens.len(), 1000);
        tokens.iter().for_each(|token| assert_accepted(token));
        for what in ["plan", "secret", "create", "delete", "execute"] {
            assert_accepted(&token_of(what, 1, 0, 0));
            assert_accepted(&token_of(what, u32::MAX, u64::MAX, u32::MAX));
        }
    }
}
