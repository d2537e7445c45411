//! The varlink protocol as pure code: framing (NUL-terminated JSON
//! messages, bounded in size), requests, replies and errors, the
//! `org.varlink.service` introspection interface, and the types of the
//! healer's own interface `io.xfs.Healer` (its IDL is
//! `io.xfs.Healer.varlink`, served verbatim to `varlinkctl introspect`).
//! The socket I/O is the daemon's.

#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::sync::Arc;

/// The interface description, as served.
pub const IDL: &str = include_str!("../io.xfs.Healer.varlink");
pub const INTERFACE: &str = "io.xfs.Healer";
/// Largest request accepted (a request of ours is a few dozen bytes).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Splits a byte stream into NUL-terminated messages.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
}

/// What is wrong with what a client sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("message longer than {MAX_MESSAGE} bytes")]
    TooLong,
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("no method")]
    NoMethod,
}

impl Framer {
    /// Adds bytes; returns the complete messages (without their NUL).
    /// A message growing past [`MAX_MESSAGE`] is an error, after which the
    /// connection should be closed.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
        let mut messages = Vec::new();
        for &b in bytes {
            if b == 0 {
                messages.push(std::mem::take(&mut self.buf));
            } else if self.buf.len() >= MAX_MESSAGE {
                return Err(ProtocolError::TooLong);
            } else {
                self.buf.push(b);
            }
        }
        Ok(messages)
    }
}

/// A call.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    pub parameters: Map<String, Value>,
    /// The client wants a stream of replies.
    pub more: bool,
    /// The client wants no reply.
    pub oneway: bool,
}

#[derive(Deserialize)]
struct RawRequest {
    method: Option<String>,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
    #[serde(default)]
    more: bool,
    #[serde(default)]
    oneway: bool,
}

pub fn parse_request(message: &[u8]) -> Result<Request, ProtocolError> {
    let raw: RawRequest =
        serde_json::from_slice(message).map_err(|e| ProtocolError::NotJson(e.to_string()))?;
    Ok(Request {
        method: raw.method.ok_or(ProtocolError::NoMethod)?,
        parameters: raw.parameters.unwrap_or_default(),
        more: raw.more,
        oneway: raw.oneway,
    })
}

/// A reply message, NUL-terminated. `continues`: more replies follow.
pub fn reply(parameters: Value, continues: bool) -> Vec<u8> {
    let mut msg = json!({ "parameters": parameters });
    if continues {
        msg["continues"] = Value::Bool(true);
    }
    frame(&msg)
}

/// An error reply, NUL-terminated.
pub fn error(name: &str, parameters: Value) -> Vec<u8> {
    frame(&json!({ "error": name, "parameters": parameters }))
}

/// `org.varlink.service.InvalidParameter`: a call's parameter is missing
/// or has a value the method does not take.
pub fn invalid_parameter(parameter: &str) -> Vec<u8> {
    error(
        "org.varlink.service.InvalidParameter",
        json!({ "parameter": parameter }),
    )
}

fn frame(msg: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(msg).unwrap_or_default();
    bytes.push(0);
    bytes
}

/// What a call asks of the healer, once the protocol is dealt with.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    GetStatus,
    /// Stream events (the call had `more`: without it the answer is
    /// `ExpectedMore`, given here), first those retained after `since`.
    Events {
        since: Option<u64>,
    },
    RequestFullScan,
    /// A test event of this class (None: the default); the healer checks
    /// the name.
    TestEvent {
        class: Option<String>,
    },
    /// Answered here already: the reply bytes.
    Answered(Vec<u8>),
    /// `oneway`, or nothing to say.
    Silent,
}

/// Decodes a request into a [`Call`], answering the introspection
/// interface and every error itself.
pub fn dispatch(request: &Request) -> Call {
    let answer = |bytes| {
        if request.oneway {
            Call::Silent
        } else {
            Call::Answered(bytes)
        }
    };
    // Each method's parameters; any other is refused by name, so a
    // misspelt one is not silently ignored.
    let allowed: &[&str] = match request.method.as_str() {
        "org.varlink.service.GetInterfaceDescription" => &["interface"],
        "io.xfs.Healer.TestEvent" => &["class"],
        "io.xfs.Healer.Events" => &["since"],
        _ => &[],
    };
    if let Some(unknown) = request
        .parameters
        .keys()
        .find(|k| !allowed.contains(&k.as_str()))
    {
        return answer(invalid_parameter(unknown));
    }
    match request.method.as_str() {
        "org.varlink.service.GetInfo" => answer(reply(
            json!({
                "vendor": "xfs-healer",
                "product": "xfs_healer",
                "version": env!("CARGO_PKG_VERSION"),
                "url": "https://xfs.wiki.kernel.org/",
                "interfaces": ["org.varlink.service", INTERFACE],
            }),
            false,
        )),
        "org.varlink.service.GetInterfaceDescription" => {
            match request.parameters.get("interface").and_then(Value::as_str) {
                Some(INTERFACE) => answer(reply(json!({ "description": IDL }), false)),
                Some("org.varlink.service") => {
                    answer(reply(json!({ "description": SERVICE_IDL }), false))
                }
                Some(other) => answer(error(
                    "org.varlink.service.InterfaceNotFound",
                    json!({ "interface": other }),
                )),
                None => answer(error(
                    "org.varlink.service.InvalidParameter",
                    json!({ "parameter": "interface" }),
                )),
            }
        }
        "io.xfs.Healer.GetStatus" => Call::GetStatus,
        "io.xfs.Healer.Events" if request.more => match request.parameters.get("since") {
            None | Some(Value::Null) => Call::Events { since: None },
            Some(since) => match since.as_u64() {
                Some(seq) => Call::Events { since: Some(seq) },
                None => answer(invalid_parameter("since")),
            },
        },
        // As sd-varlink answers a streaming method called without it.
        "io.xfs.Healer.Events" => answer(error("org.varlink.service.ExpectedMore", json!({}))),
        "io.xfs.Healer.RequestFullScan" => Call::RequestFullScan,
        "io.xfs.Healer.TestEvent" => match request.parameters.get("class") {
            None | Some(Value::Null) => Call::TestEvent { class: None },
            Some(Value::String(class)) => Call::TestEvent {
                class: Some(class.clone()),
            },
            Some(_) => answer(invalid_parameter("class")),
        },
        method => match method.rsplit_once('.') {
            Some((INTERFACE | "org.varlink.service", _)) => answer(error(
                "org.varlink.service.MethodNotFound",
                json!({ "method": method }),
            )),
            Some((interface, _)) => answer(error(
                "org.varlink.service.InterfaceNotFound",
                json!({ "interface": interface }),
            )),
            None => answer(error(
                "org.varlink.service.MethodNotFound",
                json!({ "method": method }),
            )),
        },
    }
}

const SERVICE_IDL: &str = "\
interface org.varlink.service
method GetInfo() -> (vendor: string, product: string, version: string, url: string, interfaces: []string)
method GetInterfaceDescription(interface: string) -> (description: string)
error InterfaceNotFound (interface: string)
error MethodNotFound (method: string)
error MethodNotImplemented (method: string)
error InvalidParameter (parameter: string)
error ExpectedMore ()
";

/// `Event` of the IDL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// 1, 2, ... in the order this healer emitted its events since it
    /// started (`Events(since:)` resumes after one).
    pub seq: u64,
    pub time_usec: u64,
    /// The filesystem: its mount point (escaped), UUID and data device.
    /// Shared: a healer's every event names the same filesystem.
    pub mountpoint: Arc<str>,
    pub uuid: Arc<str>,
    pub device: Arc<str>,
    /// One of a fixed set of names (a healer's are static).
    pub kind: Cow<'static, str>,
    /// The hook class (the kind, with a repair's split into `repaired`
    /// and `repair_failed`).
    pub class: Cow<'static, str>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structures: Option<Vec<Cow<'static, str>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Cow<'static, str>>,
    /// For full scans: why one was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'static, str>>,
    /// A test event (`TestEvent`): nothing happened. Sent only when true,
    /// so real events read as before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

impl Event {
    /// An event of `kind` (its class too) with only its line: `seq` 0,
    /// the filesystem's fields empty, no object, structures, path,
    /// outcome or reason, not a test.
    pub fn new(
        time_usec: u64,
        kind: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Event {
        let kind = kind.into();
        Event {
            seq: 0,
            time_usec,
            mountpoint: Arc::from(""),
            uuid: Arc::from(""),
            device: Arc::from(""),
            class: kind.clone(),
            kind,
            message: message.into(),
            object: None,
            structures: None,
            path: None,
            outcome: None,
            reason: None,
            test: false,
        }
    }
}

/// `SickObject` of the IDL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SickObject {
    pub object: String,
    pub structures: Vec<Cow<'static, str>>,
    pub since_usec: u64,
}

/// `Counters` of the IDL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub events: u64,
    pub sick_reports: u64,
    pub healthy_reports: u64,
    pub lost_events: u64,
    pub repairs_succeeded: u64,
    /// Not repaired and not to be tried again.
    pub repairs_failed: u64,
    /// Transient errors (busy, deadlock, no memory) that will be retried.
    #[serde(default)]
    pub repairs_retried: u64,
    /// Not attempted: the mount point led elsewhere.
    #[serde(default)]
    pub repairs_refused: u64,
    pub full_scans: u64,
    /// Test events sent through the sinks (`TestEvent`).
    #[serde(default)]
    pub test_events: u64,
}

/// `Status` of the IDL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub mountpoint: String,
    pub uuid: String,
    pub device: String,
    pub mode: String,
    pub monitoring_since_usec: u64,
    pub shut_down: bool,
    pub repairs_pending: u64,
    pub repairs_running: u64,
    pub full_scan_running: bool,
    pub sick: Vec<SickObject>,
    pub sick_truncated: bool,
    pub last_events: Vec<Event>,
    /// Some of `last_events` had a field cut to 1 KiB (ending in "…").
    #[serde(default)]
    pub last_events_shortened: bool,
    pub counters: Counters,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn call(text: &str) -> Call {
        dispatch(&parse_request(text.as_bytes()).unwrap())
    }

    fn answered(c: Call) -> Value {
        let Call::Answered(mut bytes) = c else {
            panic!("not answered: {c:?}")
        };
        assert_eq!(bytes.pop(), Some(0));
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn messages_are_split_at_nul_and_bounded() {
        let mut f = Framer::default();
        assert_eq!(
            f.feed(b"{\"a\":1}\0{\"b\"").unwrap(),
            vec![b"{\"a\":1}".to_vec()]
        );
        assert_eq!(
            f.feed(b":2}\0\0").unwrap(),
            vec![b"{\"b\":2}".to_vec(), vec![]]
        );
        let mut f = Framer::default();
        assert_eq!(
            f.feed(&vec![b'x'; MAX_MESSAGE + 1]),
            Err(ProtocolError::TooLong)
        );
    }

    #[test]
    fn requests_parse_with_defaults_and_bad_ones_are_errors() {
        let r = parse_request(br#"{"method":"io.xfs.Healer.Events","more":true}"#).unwrap();
        assert_eq!(
            (r.method.as_str(), r.more, r.oneway, r.parameters.len()),
            ("io.xfs.Healer.Events", true, false, 0)
        );
        assert_eq!(
            parse_request(br#"{"parameters":{}}"#),
            Err(ProtocolError::NoMethod)
        );
        assert!(matches!(
            parse_request(b"[1,2]"),
            Err(ProtocolError::NotJson(_))
        ));
        assert!(matches!(
            parse_request(b"\xff"),
            Err(ProtocolError::NotJson(_))
        ));
        assert!(matches!(
            parse_request(br#"{"method":7}"#),
            Err(ProtocolError::NotJson(_))
        ));
    }

    #[test]
    fn introspection_is_answered_here() {
        let info = answered(call(r#"{"method":"org.varlink.service.GetInfo"}"#));
        assert_eq!(info["parameters"]["interfaces"][1], INTERFACE);
        let idl = answered(call(
            r#"{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"io.xfs.Healer"}}"#,
        ));
        assert_eq!(idl["parameters"]["description"], IDL);
        assert!(
            IDL.contains("interface io.xfs.Healer\n")
                && IDL.contains("method GetStatus() -> (status: Status)")
        );
        let missing = answered(call(
            r#"{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"x.y"}}"#,
        ));
        assert_eq!(missing["error"], "org.varlink.service.InterfaceNotFound");
    }

    #[test]
    fn our_methods_go_to_the_healer_and_unknown_ones_are_errors() {
        assert_eq!(
            call(r#"{"method":"io.xfs.Healer.GetStatus"}"#),
            Call::GetStatus
        );
        assert_eq!(
            call(r#"{"method":"io.xfs.Healer.Events","more":true}"#),
            Call::Events { since: None }
        );
        assert_eq!(
            call(r#"{"method":"io.xfs.Healer.Events","more":true,"parameters":{"since":41}}"#),
            Call::Events { since: Some(41) }
        );
        assert_eq!(
            answered(call(
                r#"{"method":"io.xfs.Healer.Events","more":true,"parameters":{"since":-1}}"#
            ))["parameters"]["parameter"],
            "since"
        );
        assert_eq!(
            answered(call(r#"{"method":"io.xfs.Healer.Events"}"#))["error"],
            "org.varlink.service.ExpectedMore"
        );
        let misspelt = answered(call(
            r#"{"method":"io.xfs.Healer.TestEvent","parameters":{"clas":"sick"}}"#,
        ));
        assert_eq!(
            (
                misspelt["error"].as_str(),
                misspelt["parameters"]["parameter"].as_str()
            ),
            (Some("org.varlink.service.InvalidParameter"), Some("clas"))
        );
        assert_eq!(
            answered(call(
                r#"{"method":"io.xfs.Healer.GetStatus","parameters":{"verbose":true}}"#
            ))["parameters"]["parameter"],
            "verbose"
        );
        assert_eq!(
            call(r#"{"method":"io.xfs.Healer.GetStatus","parameters":{}}"#),
            Call::GetStatus
        );
        assert_eq!(
            call(r#"{"method":"io.xfs.Healer.RequestFullScan"}"#),
            Call::RequestFullScan
        );
        assert_eq!(
            call(r#"{"method":"io.xfs.Healer.TestEvent"}"#),
            Call::TestEvent { class: None }
        );
        assert_eq!(
            call(r#"{"method":"io.xfs.Healer.TestEvent","parameters":{"class":null}}"#),
            Call::TestEvent { class: None }
        );
        assert_eq!(
            call(r#"{"method":"io.xfs.Healer.TestEvent","parameters":{"class":"shutdown"}}"#),
            Call::TestEvent {
                class: Some("shutdown".into())
            }
        );
        let bad = answered(call(
            r#"{"method":"io.xfs.Healer.TestEvent","parameters":{"class":7}}"#,
        ));
        assert_eq!(
            (
                bad["error"].as_str(),
                bad["parameters"]["parameter"].as_str()
            ),
            (Some("org.varlink.service.InvalidParameter"), Some("class"))
        );
        assert_eq!(
            answered(call(r#"{"method":"io.xfs.Healer.Frobnicate"}"#))["error"],
            "org.varlink.service.MethodNotFound"
        );
        assert_eq!(
            answered(call(r#"{"method":"com.example.X"}"#))["error"],
            "org.varlink.service.InterfaceNotFound"
        );
        assert_eq!(call(r#"{"method":"nothing","oneway":true}"#), Call::Silent);
    }

    /// `test` is sent only for test events, so a real event reads as it
    /// did before the field existed, and an old event parses.
    #[test]
    fn only_test_events_carry_test() {
        let mut event = Event::new(1, "sick", "m");
        let real = serde_json::to_string(&event).unwrap();
        assert_eq!(
            real,
            r#"{"seq":0,"time_usec":1,"mountpoint":"","uuid":"","device":"","kind":"sick","class":"sick","message":"m"}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&real).unwrap(), event);
        event.test = true;
        let test = serde_json::to_value(&event).unwrap();
        assert_eq!(test["test"], true);
        let counters: Counters = serde_json::from_str(
            r#"{"events":0,"sick_reports":0,"healthy_reports":0,"lost_events":0,"repairs_succeeded":0,"repairs_failed":0,"full_scans":0}"#,
        )
        .unwrap();
        assert_eq!(counters.test_events, 0);
    }

    #[test]
    fn replies_are_framed_json() {
        assert_eq!(
            reply(json!({"x": 1}), true),
            b"{\"continues\":true,\"parameters\":{\"x\":1}}\0".to_vec()
        );
        let e = error(
            "io.xfs.Healer.RepairsDisabled",
            json!({"reason": "log-only"}),
        );
        assert_eq!(e.last(), Some(&0));
        assert_eq!(e.iter().filter(|&&b| b == 0).count(), 1);
    }

    proptest! {
        /// Any bytes: the framer and parser never panic, and no message
        /// handed on is longer than the bound.
        #[test]
        fn arbitrary_input_is_safe(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8)) {
            let mut f = Framer::default();
            for chunk in chunks {
                match f.feed(&chunk) {
                    Ok(messages) => for m in messages {
                        prop_assert!(m.len() <= MAX_MESSAGE);
                        if let Ok(r) = parse_request(&m) {
                            let _ = dispatch(&r);
                        }
                    },
                    Err(_) => break,
                }
            }
        }
    }
}
