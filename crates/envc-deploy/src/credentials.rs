//! The credentials of the standard chain, given a time to come in. A profile's
//! `credential_process` or SSO login that hangs would otherwise hold the first AWS call until
//! its own timeout, which then blamed AWS ("did not answer in time") for what the credential
//! source did.

use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};

/// How long the chain may take to hand over credentials: long enough for a `credential_process`
/// that asks for an MFA code, and shorter than one attempt of a call (30 s), whose timeout
/// would otherwise end the wait and be reported instead (the SDK resolves credentials inside
/// each attempt).
pub const CREDENTIALS_WAIT: Duration = Duration::from_secs(25);

/// The chain's provider, failing with a message of its own when it takes longer than `wait`.
#[derive(Debug)]
pub struct TimedCredentials {
    chain: SharedCredentialsProvider,
    wait: Duration,
}

impl TimedCredentials {
    pub fn shared(chain: SharedCredentialsProvider, wait: Duration) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(TimedCredentials { chain, wait })
    }
}

impl ProvideCredentials for TimedCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            match tokio::time::timeout(self.wait, self.chain.provide_credentials()).await {
                Ok(Ok(credentials)) => {
                    remember(credentials.secret_access_key());
                    if let Some(token) = credentials.session_token() {
                        remember(token);
                    }
                    Ok(credentials)
                }
                Ok(failed) => failed,
                Err(_) => Err(CredentialsError::provider_error(format!(
                    "no credentials came from the profile's credential source within {} s (its `credential_process` or SSO login did not finish)",
                    self.wait.as_secs()
                ))),
            }
        })
    }
}

/// The secret parts (secret key, session token) of every credential resolved in this
/// process, and the values read from secrets: the CLI masks them in everything it shows, as
/// an endpoint may echo a request's headers or body into its error.
static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// AWS's secret keys are 40 characters and its session tokens hundreds: a shorter secret is
/// a local emulator's (`test`), and masking it would mask words.
const SHORTEST_SECRET: usize = 16;

fn remember(secret: &str) {
    if secret.len() >= SHORTEST_SECRET {
        remember_value(secret);
    }
}

/// Keeps `value` (a value read from a secret) for output to mask, however short: the
/// redactor masks a short one only where it stands quoted.
pub(crate) fn remember_value(value: &str) {
    let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !value.is_empty() && !seen.iter().any(|s| s == value) {
        seen.push(value.to_string());
    }
}

/// The secrets of the credentials resolved so far, from the `skip`-th on (in the order
/// they were first seen).
pub fn seen_secrets(skip: usize) -> Vec<String> {
    let seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    seen.iter().skip(skip).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;

    #[derive(Debug)]
    struct Never;

    impl ProvideCredentials for Never {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::new(std::future::pending())
        }
    }

    #[tokio::test]
    async fn a_source_that_never_answers_is_named_after_the_wait() {
        let timed = TimedCredentials::shared(
            SharedCredentialsProvider::new(Never),
            Duration::from_millis(20),
        );
        let error = timed.provide_credentials().await.unwrap_err();
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        assert!(text.contains("credential_process"), "{text}");
    }

    #[tokio::test]
    async fn credentials_that_come_pass_through() {
        let given = Credentials::new("AKIDEXAMPLE", "not-a-secret", None, None, "test");
        let chain = SharedCredentialsProvider::new(given.clone());
        let timed = TimedCredentials::shared(chain, Duration::from_secs(5));
        let credentials = timed.provide_credentials().await.unwrap();
        assert_eq!(credentials.access_key_id(), given.access_key_id());
    }

    /// The secret parts of resolved credentials are kept for output to mask; an emulator's
    /// short stand-in (`test`) is not, as masking it would mask words.
    #[tokio::test]
    async fn the_secrets_of_resolved_credentials_are_kept_for_masking() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSEENKEY0001";
        let token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0001";
        let given = Credentials::new("AKIDEXAMPLE", secret, Some(token.into()), None, "test");
        let timed = TimedCredentials::shared(
            SharedCredentialsProvider::new(given),
            Duration::from_secs(5),
        );
        timed.provide_credentials().await.unwrap();
        let short = Credentials::new("AKIDEXAMPLE", "test", None, None, "test");
        let timed = TimedCredentials::shared(
            SharedCredentialsProvider::new(short),
            Duration::from_secs(5),
        );
        timed.provide_credentials().await.unwrap();
        let seen = seen_secrets(0);
        assert!(
            seen.iter().any(|s| s == secret) && seen.iter().any(|s| s == token),
            "{seen:?}"
        );
        assert!(!seen.iter().any(|s| s == "test"), "{seen:?}");
    }
}
