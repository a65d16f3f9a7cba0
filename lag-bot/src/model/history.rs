//! A room's history, read a page at a time.

use serde::{Deserialize, Serialize};

use super::{Message, decode_list};

/// The most messages one history page may hold.
pub const MAX_HISTORY_PAGE: u32 = 100;

/// One page of a room's history, newest message first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HistoryPage {
    /// The messages, newest first.
    pub messages: Vec<Message>,
    /// Whether older messages exist.
    #[serde(default)]
    pub has_more: bool,
    /// Pass this as the cursor to get the next (older) page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Which history page to fetch.
///
/// ```
/// use lag_bot::model::HistoryQuery;
/// let query = HistoryQuery::new().limit(20).before("2026-01-01T00:00:00Z");
/// assert_eq!(query.limit, Some(20));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryQuery {
    /// Page size, 1 to 100; Lag's default (50) when `None`.
    pub limit: Option<u32>,
    /// Only messages created before this cursor (a `next_cursor` from a previous page).
    pub cursor: Option<String>,
}

impl HistoryQuery {
    /// The newest page, Lag's default size.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size (1 to 100).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Starts before `cursor`, a `next_cursor` from an earlier page.
    pub fn before(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }
}

/// Reads a history page, accepting a bare list of messages as a last page.
pub(crate) fn decode_history(value: serde_json::Value) -> crate::Result<HistoryPage> {
    match value {
        serde_json::Value::Array(_) => Ok(HistoryPage {
            messages: decode_list("history", "messages", value)?,
            has_more: false,
            next_cursor: None,
        }),
        other => {
            let mut page: HistoryPage = serde_json::from_value(other)
                .map_err(|err| crate::Error::json("history page", err))?;
            if page.next_cursor.as_deref() == Some("") {
                page.next_cursor = None;
            }
            Ok(page)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::tests::message_json;

    #[test]
    fn history_decodes_page_or_bare_list() {
        let page = decode_history(json!({
            "messages": [message_json()], "hasMore": true, "nextCursor": "2024-01-15T12:30:00.000Z"
        }))
        .unwrap();
        assert!(page.has_more);
        assert_eq!(
            page.next_cursor.as_deref(),
            Some("2024-01-15T12:30:00.000Z")
        );
        let bare = decode_history(json!([message_json()])).unwrap();
        assert_eq!(bare.messages.len(), 1);
        assert!(!bare.has_more);
        assert!(decode_history(json!({"messages": 3})).is_err());
    }
}
