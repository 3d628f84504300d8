//! Every fixture body decodes to the values in `index.json` and parses into its typed
//! struct, with nothing lost: every parameter is either a modelled field or in `extra`.

use std::collections::BTreeMap;

use plivo_webhook_core::{
    testing::Signer, CallbackRequest, ErrorCode, FromParams, InboundMessage, MessageStatus,
    MessageType, Params, Status, Verifier, VoiceCallback,
};
use serde_json::Value;

const INDEX: &str = include_str!("data/fixtures/index.json");
const SIGNATURES: &str = include_str!("data/fixtures/signature_vectors.json");

fn body(file: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap()
}

fn decoded(entry: &Value) -> BTreeMap<String, String> {
    entry["decoded"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn entries() -> Vec<Value> {
    serde_json::from_str::<Value>(INDEX)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn every_fixture_decodes_to_its_index_values() {
    let entries = entries();
    assert_eq!(entries.len(), 24);
    for entry in &entries {
        let file = entry["file"].as_str().unwrap();
        let params = Params::decode(&body(file));
        let got: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(got, decoded(entry), "{file}");
        assert_eq!(params.len(), got.len(), "{file}: no repeated keys expected");
    }
}

/// Checks that a typed value + its extra map account for every decoded parameter.
fn accounts_for_all(
    file: &str,
    modelled: &[&str],
    extra: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) {
    for (key, value) in want {
        if modelled.contains(&key.as_str()) || key.starts_with("Media") && key != "MediaCount" {
            assert!(
                !extra.contains_key(key),
                "{file}: {key} is modelled but also in extra"
            );
        } else {
            assert_eq!(extra.get(key), Some(value), "{file}: {key} lost");
        }
    }
}

#[test]
fn status_fixtures_parse_into_message_status() {
    const MODELLED: &[&str] = &[
        "MessageUUID",
        "From",
        "To",
        "Status",
        "Type",
        "ErrorCode",
        "Units",
        "TotalRate",
        "TotalAmount",
        "MCC",
        "MNC",
        "ParentMessageUUID",
        "PartInfo",
        "Sequence",
        "MessageTime",
        "QueuedTime",
        "SentTime",
        "DeliveryReportTime",
        "PowerpackUUID",
        "requester_ip",
        "ConversationID",
        "ConversationOrigin",
        "ConversationExpirationTimestamp",
    ];
    let mut count = 0;
    for entry in entries() {
        let file = entry["file"].as_str().unwrap();
        if !file.starts_with("status_") {
            continue;
        }
        count += 1;
        let want = decoded(&entry);
        let s = MessageStatus::from_params(&Params::decode(&body(file))).unwrap();
        assert_eq!(s.message_uuid, want["MessageUUID"], "{file}");
        assert_eq!(s.from, want["From"]);
        assert_eq!(s.to, want["To"]);
        assert_eq!(s.status, Status::parse(&want["Status"]));
        assert!(!matches!(s.status, Status::Unknown(_)), "{file}");
        let opt = |key: &str| want.get(key).filter(|v| !v.is_empty()).cloned();
        assert_eq!(
            s.error_code,
            want.get("ErrorCode").and_then(|c| ErrorCode::parse(c)),
            "{file}"
        );
        assert_eq!(
            s.total_rate.as_ref().map(|a| a.as_str().to_owned()),
            opt("TotalRate"),
            "{file}"
        );
        assert_eq!(
            s.total_amount.as_ref().map(|a| a.as_str().to_owned()),
            opt("TotalAmount"),
            "{file}"
        );
        assert_eq!(s.units.map(|u| u.to_string()), opt("Units"));
        assert_eq!(s.sequence.map(|u| u.to_string()), opt("Sequence"));
        assert_eq!(s.mcc.as_deref(), opt("MCC").as_deref());
        assert_eq!(s.mnc.as_deref(), opt("MNC").as_deref());
        assert_eq!(s.powerpack_uuid.as_deref(), opt("PowerpackUUID").as_deref());
        assert_eq!(s.requester_ip.as_deref(), opt("requester_ip").as_deref());
        assert_eq!(s.part_info.as_deref(), opt("PartInfo").as_deref());
        assert_eq!(
            s.conversation_origin.as_deref(),
            opt("ConversationOrigin").as_deref()
        );
        for (field, key) in [
            (&s.message_time, "MessageTime"),
            (&s.queued_time, "QueuedTime"),
            (&s.sent_time, "SentTime"),
            (&s.delivery_report_time, "DeliveryReportTime"),
            (
                &s.conversation_expiration,
                "ConversationExpirationTimestamp",
            ),
        ] {
            assert_eq!(
                field.as_ref().map(|t| t.raw().to_owned()),
                opt(key),
                "{file} {key}"
            );
            if let Some(t) = field {
                assert!(
                    t.unix_micros().is_some(),
                    "{file}: {key} {:?} unreadable",
                    t.raw()
                );
            }
        }
        if let Some(t) = want.get("Type") {
            assert_eq!(
                s.message_type.as_ref().map(MessageType::as_str),
                Some(t.as_str())
            );
        }
        accounts_for_all(file, MODELLED, &s.extra, &want);
    }
    assert_eq!(count, 14);
}

#[test]
fn specific_status_values() {
    let parse = |file: &str| MessageStatus::from_params(&Params::decode(&body(file))).unwrap();
    let undelivered = parse("status_sms_undelivered.form");
    assert_eq!(undelivered.error_code, Some(ErrorCode::SpamDetected));
    assert!(undelivered.status.is_failure() && undelivered.status.is_final());
    let failed = parse("status_sms_failed.form");
    assert_eq!(failed.error_code, Some(ErrorCode::InsufficientCredit));
    assert_eq!(failed.mcc, None);
    let delivered = parse("status_sms_delivered.form");
    assert_eq!(delivered.error_code, None);
    assert_eq!(
        delivered.delivery_report_time.unwrap().raw(),
        "2023-12-19 14:02:15.92671"
    );
    assert_eq!(
        parse("status_sms_multipart_part2_delivered.form").parts(),
        Some((2, 2))
    );
    let read = parse("status_whatsapp_read.form");
    assert_eq!(read.status, Status::Read);
    assert_eq!(read.message_type, Some(MessageType::WhatsApp));
    assert!(read
        .conversation_expiration
        .unwrap()
        .unix_micros()
        .is_some());
    assert_eq!(
        parse("status_mms_failed_too_large.form").error_code,
        Some(ErrorCode::MmsTooLarge)
    );
    assert_eq!(
        parse("status_sms_failed_geo_permission.form").error_code,
        Some(ErrorCode::GeoPermissionBarred)
    );
}

#[test]
fn inbound_fixtures_parse_into_inbound_message() {
    const MODELLED: &[&str] = &[
        "MessageUUID",
        "From",
        "To",
        "Type",
        "Text",
        "Body",
        "MediaCount",
        "Units",
        "TotalRate",
        "TotalAmount",
        "MessageIntent",
        "PowerpackUUID",
        "ContentType",
        "MimeType",
        "ErrorCode",
    ];
    let mut count = 0;
    for entry in entries() {
        let file = entry["file"].as_str().unwrap();
        if !file.starts_with("inbound_") {
            continue;
        }
        count += 1;
        let want = decoded(&entry);
        let m = InboundMessage::from_params(&Params::decode(&body(file))).unwrap();
        assert_eq!(m.message_uuid, want["MessageUUID"]);
        let content = want
            .get("Text")
            .or(want.get("Body"))
            .filter(|t| !t.is_empty());
        assert_eq!(m.content(), content.map(String::as_str), "{file}");
        let media: Vec<&String> = want
            .iter()
            .filter(|(k, _)| k.starts_with("Media") && *k != "MediaCount")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            m.media.iter().map(|x| &x.url).collect::<Vec<_>>(),
            media,
            "{file}"
        );
        accounts_for_all(file, MODELLED, &m.extra, &want);
    }
    assert_eq!(count, 7);
    let zero = InboundMessage::from_params(&Params::decode(&body(
        "inbound_mms_media_zero_indexed.form",
    )))
    .unwrap();
    assert_eq!(zero.media[0].index, 0);
    let stop =
        InboundMessage::from_params(&Params::decode(&body("inbound_sms_stop.form"))).unwrap();
    assert_eq!(
        stop.message_intent,
        Some(plivo_webhook_core::MessageIntent::OptOut)
    );
    let unicode =
        InboundMessage::from_params(&Params::decode(&body("inbound_sms_unicode.form"))).unwrap();
    assert_eq!(
        unicode.text.as_deref(),
        Some("नमस्ते 👋 ¿Qué tal? 你好 & 100% = ok")
    );
}

#[test]
fn voice_fixtures_parse_into_voice_callback() {
    const MODELLED: &[&str] = &[
        "CallUUID",
        "From",
        "To",
        "Direction",
        "CallStatus",
        "Event",
        "RequestUUID",
        "Duration",
        "BillDuration",
        "HangupCause",
        "HangupCauseCode",
        "HangupCauseName",
        "HangupSource",
        "TotalCost",
        "StartTime",
        "AnswerTime",
        "EndTime",
    ];
    let mut count = 0;
    for entry in entries() {
        let file = entry["file"].as_str().unwrap();
        if !file.starts_with("voice_") {
            continue;
        }
        count += 1;
        let want = decoded(&entry);
        let c = VoiceCallback::from_params(&Params::decode(&body(file))).unwrap();
        assert_eq!(c.call_uuid, want["CallUUID"]);
        assert_eq!(
            c.hangup_cause_code.map(|c| c.to_string()),
            want.get("HangupCauseCode").cloned()
        );
        accounts_for_all(file, MODELLED, &c.extra, &want);
    }
    assert_eq!(count, 3);
    let busy =
        VoiceCallback::from_params(&Params::decode(&body("voice_hangup_outbound_busy.form")))
            .unwrap();
    assert!(busy.is_hangup());
    assert_eq!(busy.answer_time, None);
}

#[test]
fn a_repeated_key_reads_as_params_get_does() {
    let params =
        Params::decode(b"MessageUUID=b&MessageUUID=a&From=x&To=y&Status=sent&Status=delivered");
    let status = MessageStatus::from_params(&params).unwrap();
    assert_eq!(status.message_uuid, params.get("MessageUUID").unwrap());
    assert_eq!(status.message_uuid, "a");
    assert_eq!(status.status, Status::Delivered);
    assert_eq!(
        status.extra.get("MessageUUID").map(String::as_str),
        Some("b")
    );
    assert_eq!(status.extra.get("Status").map(String::as_str), Some("sent"));
    // The same rule for every typed callback (one shared reader).
    let inbound = InboundMessage::from_params(&Params::decode(
        b"MessageUUID=u&From=b&From=a&To=y&Text=2&Text=1",
    ))
    .unwrap();
    assert_eq!(
        (inbound.from.as_str(), inbound.text.as_deref()),
        ("a", Some("1"))
    );
    assert_eq!(inbound.extra.get("From").map(String::as_str), Some("b"));
    assert_eq!(inbound.extra.get("Text").map(String::as_str), Some("2"));
    let voice = VoiceCallback::from_params(&Params::decode(
        b"CallUUID=c&CallUUID=b&Event=Ring&Event=Hangup",
    ))
    .unwrap();
    assert_eq!(voice.call_uuid, "b");
    assert_eq!(voice.event.as_deref(), Some("Hangup"));
    assert_eq!(voice.extra.get("CallUUID").map(String::as_str), Some("c"));
    assert_eq!(voice.extra.get("Event").map(String::as_str), Some("Ring"));
}

#[test]
fn required_fields_are_enforced() {
    let err = MessageStatus::from_params(&Params::decode(b"From=a&To=b&Status=sent")).unwrap_err();
    assert!(err.to_string().contains("MessageUUID"));
    assert_eq!(err.status(), 422);
    assert!(
        MessageStatus::from_params(&Params::decode(b"MessageUUID=&From=a&To=b&Status=sent"))
            .is_err()
    );
    assert!(InboundMessage::from_params(&Params::decode(b"MessageUUID=u&From=a")).is_err());
    let unknown = MessageStatus::from_params(&Params::decode(
        b"MessageUUID=u&From=a&To=b&Status=teleported&Units=x",
    ))
    .unwrap();
    assert_eq!(unknown.status, Status::Unknown("teleported".into()));
    assert_eq!(unknown.units, None);
    assert_eq!(unknown.extra.get("Units").map(String::as_str), Some("x"));
}

#[test]
fn worked_signature_examples_verify() {
    let examples: Value = serde_json::from_str(SIGNATURES).unwrap();
    for example in examples.as_array().unwrap() {
        let url = example["url"].as_str().unwrap();
        let token = example["auth_token"].as_str().unwrap();
        let main = example["main_account_auth_token"].as_str().unwrap();
        let body = body(example["fixture"].as_str().unwrap());
        let h = example["headers"].as_object().unwrap();
        let nonce = h["X-Plivo-Signature-V3-Nonce"].as_str().unwrap();
        let signer = Signer::new(token);
        let string = signer.signing_string("POST", url, &body, nonce).unwrap();
        assert_eq!(
            String::from_utf8(string).unwrap(),
            example["v3_string_to_sign"].as_str().unwrap()
        );
        let mut headers: Vec<(String, String)> = h
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        for (tok, header) in [(token, "V3"), (main, "MaV3")] {
            let verifier = Verifier::builder().token(tok).build().unwrap();
            let matched = verifier
                .check(&CallbackRequest::with_public_url(
                    "POST", url, &headers, &body,
                ))
                .unwrap();
            assert_eq!(format!("{:?}", matched.header), header);
        }
        // V2 alone (no V3 headers), only when enabled.
        let v2_only: Vec<(String, String)> = headers
            .iter()
            .filter(|(k, _)| !k.contains("V3"))
            .cloned()
            .collect();
        let strict = Verifier::builder().token(token).build().unwrap();
        let request = CallbackRequest::with_public_url("POST", url, &v2_only, &body);
        assert_eq!(strict.check(&request).unwrap_err().status(), 400);
        let lenient = Verifier::builder()
            .token(token)
            .dangerous_accept_v2()
            .build()
            .unwrap();
        assert!(lenient.check(&request).is_ok());
    }
}
