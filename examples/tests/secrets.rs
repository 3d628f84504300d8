//! No secret reaches the logs: every log line at every level (RUST_LOG=trace) is captured
//! while valid and invalid requests flow, and no auth token, expected signature or
//! signing string appears. `Debug` of every configuration type is redacted.

mod support;

use plivo_webhook_core::testing::Signer;
use plivo_webhook_core::{AuthToken, Verifier};
use plivo_webhook_examples::config::Config;
use support::*;

#[tokio::test]
async fn logs_carry_no_secret() {
    for bin in RECEIVERS {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("s.db").display());
        let server = Server::start(bin, &db, &[("RUST_LOG", "trace")]);
        let mut secrets = vec![TOKEN.to_owned()];
        for i in 0..5 {
            let id = uuid();
            let body = status_body(&id, "undelivered", 3, "30");
            let url = format!("{BASE}/api/plivo/status");
            // Valid.
            assert_eq!(
                post_signed(&server, "/api/plivo/status", &body, TOKEN)
                    .await
                    .0,
                200
            );
            // Forged with a wrong token: the expected signature (under the real token) and the
            // signing string must not appear anywhere.
            let forged = format!("{body}&i={i}");
            assert_eq!(
                post_signed(&server, "/api/plivo/status", &forged, "WRONG")
                    .await
                    .0,
                403
            );
            let wrong = Signer::new("WRONG").sign("POST", &url, forged.as_bytes());
            let expected =
                Signer::new(TOKEN).sign_with_nonce("POST", &url, forged.as_bytes(), wrong.nonce());
            secrets.push(expected.signature().to_owned());
            let signing = Signer::new(TOKEN)
                .signing_string("POST", &url, forged.as_bytes(), wrong.nonce())
                .unwrap();
            secrets.push(String::from_utf8(signing).unwrap());
            // Trailing-slash mismatch (diagnosed for the dashboard): its expected signature too.
            let slash = format!("{url}/");
            let signed = Signer::new(TOKEN).sign("POST", &slash, body.as_bytes());
            let mut request = client()
                .post(server.url("/api/plivo/status"))
                .body(body.clone());
            for (name, value) in signed.headers() {
                request = request.header(name, value);
            }
            assert_eq!(request.send().await.unwrap().status().as_u16(), 403);
            let expected =
                Signer::new(TOKEN).sign_with_nonce("POST", &url, body.as_bytes(), signed.nonce());
            secrets.push(expected.signature().to_owned());
        }
        // Unsigned and malformed requests too.
        let response = client()
            .post(server.url("/api/plivo/status"))
            .body("a=1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400);
        let log = server.log();
        assert!(
            log.lines().count() > 20,
            "{bin}: trace logging captured too little:\n{log}"
        );
        assert!(log.contains("callback rejected"));
        for secret in &secrets {
            assert!(
                !log.contains(secret.as_str()),
                "{bin}: a secret reached the log: {secret}"
            );
        }
    }
}

#[test]
fn debug_of_configuration_is_redacted() {
    let token = "SUPER_SECRET_TOKEN_9000";
    let vars = [("PLIVO_AUTH_TOKEN", format!("{token},OTHER_SECRET_1"))];
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let verifier = config.verifier().unwrap();
    let signer = Signer::new(token);
    let debugs = [
        format!("{config:?}"),
        format!("{verifier:?}"),
        format!("{:?}", AuthToken::new(token).unwrap()),
        format!("{signer:?}"),
        format!("{:?}", Verifier::builder().token(token)),
    ];
    for text in debugs {
        assert!(!text.contains("SECRET"), "{text}");
    }
}
