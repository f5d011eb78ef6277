//! AWS clients from the standard chain (profile, region, endpoint), with retries for
//! throttling, 5xx and dropped connections, and errors turned into diagnostics.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;

use crate::diagnostic::{Code, Diagnostic};

/// Where and as whom to talk to AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsTarget {
    pub region: String,
    pub profile: Option<String>,
    /// A local emulator, like `http://127.0.0.1:5000`; also read from `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Clients {
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    pub async fn new(target: &AwsTarget) -> Clients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(target.region.clone()))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(6)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(10)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            );
        if let Some(profile) = &target.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &target.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let config = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            // Emulators serve buckets by path, not by host name.
            .force_path_style(
                target.endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some(),
            )
            .build();
        Clients {
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
        }
    }
}

/// The message AWS gave for a failed call, without the SDK's wrapping.
pub fn error_message<E, R>(error: &aws_sdk_cloudformation::error::SdkError<E, R>) -> String
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_cloudformation::error::SdkError;
    match error {
        SdkError::ServiceError(service) => {
            let meta = service.err();
            match (meta.code(), meta.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (None, Some(message)) => message.to_string(),
                (Some(code), None) => code.to_string(),
                (None, None) => service.err().to_string(),
            }
        }
        SdkError::DispatchFailure(failure) => {
            // The whole chain: "dispatch failure: io error: …: Connection refused (os error 111)".
            let chain = aws_sdk_cloudformation::error::DisplayErrorContext(error).to_string();
            let detail = chain.strip_prefix("dispatch failure: ").unwrap_or(&chain);
            let detail = detail.lines().next().unwrap_or_default();
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
        SdkError::ResponseError(_) => "AWS sent a response envc could not read".to_string(),
        other => other.to_string(),
    }
}

/// A diagnostic for a failed AWS call.
pub fn aws_failure(what: &str, message: String) -> Diagnostic {
    let help = if message.contains("could not reach") || message.contains("did not answer") {
        "check the network, `--region`, and `--endpoint-url`/`AWS_ENDPOINT_URL` if you use an emulator"
    } else if message.contains("ExpiredToken")
        || message.contains("credentials")
        || message.contains("InvalidClientTokenId")
    {
        "refresh your credentials (`aws sso login`, `--profile`)"
    } else if message.contains("AccessDenied") {
        "the credentials in use lack a permission this needs"
    } else {
        "see AWS's message above; nothing was changed by this call"
    };
    Diagnostic::error(Code::Aws, format!("{what}: {message}")).help(help)
}
