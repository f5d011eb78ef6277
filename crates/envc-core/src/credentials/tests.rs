use super::redactor::scan_kdl;
use super::*;

fn for_text<'a>(shape: &'a Shape, text: &str) -> Option<&'a Regex> {
    shape.for_text(text, AsciiSet::of(text))
}

#[test]
fn every_shape_compiles_and_only_for_text_with_its_hint() {
    for shape in &SHAPES {
        assert!(
            for_text(shape, "plain words, high throughput").is_none(),
            "{}",
            shape.what
        );
        for hint in shape.hints {
            assert!(hint.is_ascii(), "{hint}: `AsciiSet` holds ASCII hints only");
            assert!(for_text(shape, hint).is_some(), "{}", shape.what);
            let among_others = format!("é {hint}é x");
            assert!(for_text(shape, &among_others).is_some(), "{among_others}");
            let short_of_one = &hint[..hint.len() - 1];
            if !shape.hints.iter().any(|h| short_of_one.contains(h)) {
                assert!(for_text(shape, short_of_one).is_none(), "{short_of_one}");
            }
        }
    }
}

fn plain(key: &str) -> Context<'_> {
    Context {
        key,
        in_secret_reference: false,
    }
}

#[test]
fn recognises_credentials_without_flagging_references() {
    let flagged = [
        ("DATABASE_URL", "postgres://app:hunter2@db:5432/app"),
        ("CACHE_URL", "redis://:hunter2@cache:6379"),
        ("x", "AKIAABCDEFGHIJKLMNOP"),
        ("note", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("DB_PASSWORD", "s3cret"),
        ("x", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        ("x", "xoxb-1234567890-abcdefghij"),
        ("x", "sk_live_abcdefghijklmnop1234"),
        ("x", "-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
        ("signing-key-id", "q8Zp3LkT9vX2mW7rN4bY"),
    ];
    for (key, value) in flagged {
        assert!(
            looks_like_credential(plain(key), value).is_some(),
            "{key} {value}"
        );
    }
    let harmless = [
        ("domain", "api.example.com"),
        ("DATABASE_URL", "postgres://db:5432/app"),
        ("config-secret", "balancer-prod-config"),
        ("image-tag", "3f786850e387550fdab836ed7e6dc881de23001b"),
        ("key", "DATABASE_URL"),
        ("health-check", "/health"),
        ("api-key-name", "balancer-prod-api-key"),
    ];
    for (key, value) in harmless {
        assert!(
            looks_like_credential(plain(key), value).is_none(),
            "{key} {value}"
        );
    }
    let reference = Context {
        key: "from",
        in_secret_reference: true,
    };
    assert!(looks_like_credential(reference, "balancer-prod-config").is_none());
}

#[test]
fn masks_known_values_and_shapes_keeping_length() {
    let mut redactor = Redactor::default();
    redactor.learn("hunter2");
    redactor.learn("a");
    let text =
        "password \"hunter2\" and hunter22 and \"a\" a url redis://:pw@h AKIAABCDEFGHIJKLMNOP";
    let masked = redactor.mask(text);
    assert_eq!(masked.len(), text.len());
    assert_eq!(
        masked,
        "password \"*******\" and hunter22 and \"*\" a url redis://:**@h ********************"
    );
}

#[test]
fn finds_credentials_in_text_that_does_not_parse() {
    let text = "network {\n  cidr 10.0.0\n}\nservice \"api\" {\n  env { DB_PASSWORD \"p\\\"w\" }\n  secret \"DATABASE_URL\" from=\"x-config\" key=\"DATABASE_URL\"\n  token=#\"raw-tok\"#\n  url \"redis://:pw@h\" {\n";
    let found: Vec<String> = scan_kdl(text).into_iter().map(|(_, v)| v).collect();
    assert_eq!(found, vec!["p\"w", "raw-tok", "redis://:pw@h"]);
}

#[test]
fn finds_a_credential_written_over_two_lines() {
    let text = "service \"api\" {\n  note \"A1b/aaaaaaaaaaCl1Apl\\\n      y2fK1Rt4F4VyC1MjJ4AX\"\n  password \"\\u{41}b\\sc\"\n}\n";
    let found: Vec<String> = scan_kdl(text).into_iter().map(|(_, v)| v).collect();
    assert_eq!(
        found,
        vec!["A1b/aaaaaaaaaaCl1Aply2fK1Rt4F4VyC1MjJ4AX", "Ab c"]
    );
}

#[test]
fn a_learned_value_is_masked_in_json_nested_in_json() {
    let mut redactor = super::Redactor::default();
    let value = "line-a-5510\nline-b \"quoted\" \\ tab\tend";
    redactor.learn(value);
    // The value of a key, in a JSON object, written as a string of a request body that an
    // error answer echoes.
    let object = serde_json::json!({ "LEAK": value }).to_string();
    let body = serde_json::json!({ "SecretString": object }).to_string();
    let shown = redactor.mask(&body);
    for part in ["line-a-5510", "line-b", "quoted", "tab"] {
        assert!(!shown.contains(part), "{part} in {shown}");
    }
    assert!(shown.contains("SecretString"), "{shown}");
}

/// Values AWS reports (drift's expected and actual) are shown with their credentials
/// hidden: a container variable by its name, a bare secret key by its shape.
#[test]
fn reported_values_hide_their_credentials() {
    let variables =
        r#"[{"Name":"DB_PASSWORD","Value":"hunter2hunter2"},{"Name":"MODE","Value":"fast"}]"#;
    let shown = super::hide_in_reported("Environment", variables);
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("fast"), "{shown}");
    let key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    assert!(!super::hide_in_reported("Value", key).contains(key));
    assert_eq!(super::hide_in_reported("VisibilityTimeout", "300"), "300");
    let plain = r#"[{"Name":"MODE","Value":"fast"}]"#;
    assert_eq!(super::hide_in_reported("Environment", plain), plain);
}
