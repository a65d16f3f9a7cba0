//! An event as the intake stores it in a stream entry: the envelope's parts and the transport
//! it came by, as JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::events::Envelope;
use crate::model::Timestamp;
use crate::{Error, ErrorKind, Result};

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Record {
    /// The transport's short name (`webhook`, `sse`, `poll`).
    transport: String,
    id: Option<String>,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(rename = "serverId")]
    server_id: Option<String>,
    timestamp: Option<Timestamp>,
    data: Value,
}

impl Record {
    pub(super) fn encode(transport: &str, envelope: &Envelope) -> Result<String> {
        let record = Record {
            transport: transport.to_owned(),
            id: envelope.id().map(str::to_owned),
            event_type: envelope.event_type().to_owned(),
            server_id: envelope.server_id().map(str::to_owned),
            timestamp: envelope.timestamp().cloned(),
            data: envelope.data().clone(),
        };
        serde_json::to_string(&record).map_err(|err| {
            Error::new(
                ErrorKind::Transport,
                format!("could not encode an event for the intake: {err}"),
            )
        })
    }

    /// The transport's name, interned to the robot's own names (an unknown one reads `intake`).
    pub(super) fn decode(text: &str) -> Result<(&'static str, Envelope)> {
        let record: Record = serde_json::from_str(text).map_err(|err| {
            Error::new(
                ErrorKind::Decode,
                format!("an intake entry is not an event: {err}"),
            )
        })?;
        let transport = match record.transport.as_str() {
            "webhook" => "webhook",
            "sse" => "sse",
            "poll" => "poll",
            _ => "intake",
        };
        let envelope = Envelope::new(
            record.id,
            &record.event_type,
            record.server_id,
            record.timestamp,
            record.data,
        )?;
        Ok((transport, envelope))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_event_comes_back_as_it_went_in() {
        let envelope = Envelope::new(
            Some("evt_1".into()),
            "room.message",
            Some("srv_1".into()),
            Some(Timestamp::new("2026-11-29T10:00:00Z")),
            json!({"roomId": "r1", "content": "hi", "extra": [1, 2]}),
        )
        .unwrap();
        let text = Record::encode("sse", &envelope).unwrap();
        let (transport, back) = Record::decode(&text).unwrap();
        assert_eq!(transport, "sse");
        assert_eq!(back, envelope);
        assert_eq!(Record::decode("{").unwrap_err().kind(), &ErrorKind::Decode);
    }
}
