//! Lag's robot endpoints, one method each: identity, rooms, members, history, messages
//! and events.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use reqwest::Method;

use super::call::{Call, Retry, robot_path, server_path};
use super::content::{check_content, split_content};
use super::limiter::CallClass;
use super::response::decode_json;
use super::{ByteStream, Client};
use crate::events::{self, Envelope};
use crate::model::{
    EditedMessage, HistoryPage, HistoryQuery, MAX_HISTORY_PAGE, Member, Message, RobotInfo, Room,
    SendMessage, decode_history, decode_list,
};
use crate::{Error, ErrorKind, Result};

/// How long a long-poll request may be held open by Lag, on top of the request timeout.
const POLL_HOLD: Duration = Duration::from_secs(30);

impl Client {
    /// The robot's identity (`GET /robots/@me/info`), fetched on first use and cached.
    pub async fn me(&self) -> Result<RobotInfo> {
        self.with_me(RobotInfo::clone).await
    }

    /// Reads the cached identity through `read`, fetching it first when there is none yet.
    /// The lock is held across the fetch so concurrent first calls make one request.
    async fn with_me<R>(&self, read: impl FnOnce(&RobotInfo) -> R) -> Result<R> {
        let mut cached = self.inner.me.lock().await;
        if let Some(me) = cached.as_ref() {
            return Ok(read(me));
        }
        let me = cached.insert(self.request_me().await?);
        Ok(read(me))
    }

    /// Fetches the robot's identity afresh (permissions or name may have changed) and updates
    /// the cache.
    pub async fn refresh_me(&self) -> Result<RobotInfo> {
        let me = self.request_me().await?;
        *self.inner.me.lock().await = Some(me.clone());
        Ok(me)
    }

    async fn request_me(&self) -> Result<RobotInfo> {
        let call = Call::new(Method::GET, "robot info", robot_path(&["info"]));
        let body = self.run(call).await?;
        decode_json(&body, "robot info")
    }

    /// The id of the robot's server (from [`me`](Self::me), cached).
    pub async fn server_id(&self) -> Result<String> {
        self.with_me(|me| me.server_id.clone()).await
    }

    /// Lists the rooms of the robot's server (needs `read_rooms`).
    pub async fn rooms(&self) -> Result<Vec<Room>> {
        let server = self.server_id().await?;
        let call = Call::new(Method::GET, "list rooms", server_path(&server, &["rooms"]));
        let body = self.run(call).await?;
        decode_list("rooms", "rooms", decode_json(&body, "rooms")?)
    }

    /// The room of the robot's server named `name` (ignoring case), for robots configured by
    /// room name rather than by id.
    ///
    /// ```no_run
    /// # async fn run(client: lag_bot::Client) -> lag_bot::Result<()> {
    /// let welcome = client.room_named("welcome").await?;
    /// client.send(&welcome.id, "I'm here.").await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`] naming the rooms there are when none
    /// is called `name`, else as [`rooms`](Self::rooms).
    pub async fn room_named(&self, name: &str) -> Result<Room> {
        let rooms = self.rooms().await?;
        let wanted = name.trim().trim_start_matches('#');
        let key = wanted.to_lowercase();
        let named = |room: &&Room| {
            room.name
                .as_deref()
                .is_some_and(|n| n.to_lowercase() == key)
        };
        if let Some(room) = rooms.iter().find(named) {
            return Ok(room.clone());
        }
        let names: Vec<&str> = rooms.iter().filter_map(|r| r.name.as_deref()).collect();
        Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "the server has no room named {wanted:?} (its rooms: {})",
                names.join(", ")
            ),
        ))
    }

    /// Lists the members of the robot's server (needs `read_members`).
    pub async fn members(&self) -> Result<Vec<Member>> {
        let server = self.server_id().await?;
        let call = Call::new(
            Method::GET,
            "list members",
            server_path(&server, &["members"]),
        );
        let body = self.run(call).await?;
        decode_list("members", "members", decode_json(&body, "members")?)
    }

    /// Fetches one page of a room's history, newest first (needs `read_messages`).
    ///
    /// Pass the page's `next_cursor` to [`HistoryQuery::before`] for the next, older page,
    /// or use [`history`](Self::history) to walk them all.
    pub async fn history_page(&self, room_id: &str, query: &HistoryQuery) -> Result<HistoryPage> {
        if let Some(limit) = query.limit
            && !(1..=MAX_HISTORY_PAGE).contains(&limit)
        {
            return Err(Error::invalid_input(format!(
                "history page size {limit} is outside 1 to {MAX_HISTORY_PAGE}"
            )));
        }
        let server = self.server_id().await?;
        let mut call = Call::new(
            Method::GET,
            "history",
            server_path(&server, &["rooms", room_id, "messages"]),
        );
        if let Some(limit) = query.limit {
            call.query.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = &query.cursor {
            call.query.push(("cursor", cursor.clone()));
        }
        let body = self.run(call).await?;
        decode_history(decode_json(&body, "history page")?)
    }

    /// Every message of a room, newest first, fetched page by page (100 a page) as the
    /// stream is read.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// # async fn run(client: lag_bot::client::Client) -> lag_bot::Result<()> {
    /// let all: Vec<_> = client.history("room_1").try_collect().await?;
    /// println!("{} messages", all.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn history(
        &self,
        room_id: impl Into<String>,
    ) -> impl Stream<Item = Result<Message>> + Send + Unpin + 'static {
        self.history_from(room_id, HistoryQuery::new().limit(MAX_HISTORY_PAGE))
    }

    /// Like [`history`](Self::history), starting at `query` (its page size and cursor).
    pub fn history_from(
        &self,
        room_id: impl Into<String>,
        query: HistoryQuery,
    ) -> impl Stream<Item = Result<Message>> + Send + Unpin + 'static {
        let client = self.clone();
        let room_id: Arc<str> = Arc::from(room_id.into());
        stream::try_unfold(Some(query), move |next| {
            let client = client.clone();
            let room_id = Arc::clone(&room_id);
            async move {
                let Some(query) = next else {
                    return Ok(None);
                };
                let page = client.history_page(&room_id, &query).await?;
                let next = match page.next_cursor.filter(|_| page.has_more) {
                    Some(cursor) if query.cursor.as_deref() == Some(cursor.as_str()) => {
                        return Err(Error::decode(format!(
                            "history of room {room_id}: the cursor {cursor} did not advance"
                        )));
                    }
                    Some(cursor) => Some(HistoryQuery {
                        cursor: Some(cursor),
                        ..query
                    }),
                    None => None,
                };
                let messages = stream::iter(page.messages.into_iter().map(Ok));
                Ok(Some((messages, next)))
            }
        })
        .try_flatten()
        .boxed()
    }

    /// Sends `content` to a room (needs `send_messages`).
    ///
    /// The content must be 1 to 2000 characters ([`split_content`] cuts longer text).
    pub async fn send(&self, room_id: &str, content: impl Into<String>) -> Result<Message> {
        self.send_message(room_id, SendMessage::new(content)).await
    }

    /// Sends a message, optionally as a reply (needs `send_messages`).
    ///
    /// Sends are paced under both of Lag's limits. A send is retried only when the earlier
    /// attempt certainly did not reach Lag (the connection could not be opened, or Lag
    /// answered 429 or 503); after a timeout the error is returned instead, since the message
    /// may have been posted and a duplicate is worse than a reported error.
    ///
    /// ```no_run
    /// use lag_bot::SendMessage;
    /// # async fn run(client: lag_bot::client::Client) -> lag_bot::Result<()> {
    /// client.send_message("room_1", SendMessage::new("pong").reply_to("msg_1")).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_message(
        &self,
        room_id: &str,
        message: impl Into<SendMessage>,
    ) -> Result<Message> {
        let message = message.into();
        check_content(&message.content)?;
        let server = self.server_id().await?;
        let mut call = Call::new(
            Method::POST,
            "send message",
            server_path(&server, &["rooms", room_id, "messages"]),
        );
        call.body = Some(
            serde_json::to_vec(&message)
                .map_err(|e| Error::json("message", e))?
                .into(),
        );
        call.class = CallClass::Message;
        call.retry = Retry::IfUnsent;
        let body = self.run(call).await?;
        decode_json(&body, "sent message")
    }

    /// Sends text of any length as consecutive messages cut by [`split_content`], in order.
    /// Stops at the first failure.
    pub async fn send_split(&self, room_id: &str, text: &str) -> Result<Vec<Message>> {
        let pieces = split_content(text);
        if pieces.is_empty() {
            check_content(text)?;
        }
        let mut sent = Vec::with_capacity(pieces.len());
        for piece in pieces {
            sent.push(self.send(room_id, piece).await?);
        }
        Ok(sent)
    }

    /// Replaces the content of one of the robot's own messages (needs `send_messages`).
    pub async fn edit(
        &self,
        room_id: &str,
        message_id: &str,
        content: impl Into<String>,
    ) -> Result<EditedMessage> {
        let content = content.into();
        check_content(&content)?;
        let server = self.server_id().await?;
        let mut call = Call::new(
            Method::PATCH,
            "edit message",
            server_path(&server, &["rooms", room_id, "messages", message_id]),
        );
        call.body = Some(
            serde_json::to_vec(&serde_json::json!({ "content": content }))
                .map_err(|e| Error::json("edit", e))?
                .into(),
        );
        let body = self.run(call).await?;
        EditedMessage::from_json(decode_json(&body, "edited message")?)
    }

    /// Deletes one of the robot's own messages (needs `send_messages`). Deletion is permanent.
    pub async fn delete(&self, room_id: &str, message_id: &str) -> Result<()> {
        let server = self.server_id().await?;
        let call = Call::new(
            Method::DELETE,
            "delete message",
            server_path(&server, &["rooms", room_id, "messages", message_id]),
        );
        match self.run(call).await {
            Ok(_) => Ok(()),
            Err(failed) if failed.repeated && failed.error.kind() == &ErrorKind::NotFound => Ok(()),
            Err(failed) => Err(failed.error),
        }
    }

    /// Takes the robot's queued events (`GET /robots/@me/events/poll`), waiting while Lag
    /// holds the request open. For long-poll robots; others get a [`ErrorKind::Conflict`].
    ///
    /// Each item decodes on its own: one malformed event does not lose the rest.
    pub async fn poll_events(&self) -> Result<Vec<Result<Envelope>>> {
        let body = self.poll_raw().await?;
        events::decode_poll(&body)
    }

    /// One long-poll request, its raw body. Paced like every call; not retried.
    pub(crate) async fn poll_raw(&self) -> Result<Bytes> {
        let mut call = Call::new(Method::GET, "poll events", robot_path(&["events", "poll"]));
        call.retry = Retry::Never;
        call.timeout = Some(self.inner.timeout + POLL_HOLD);
        Ok(self.run(call).await?)
    }

    /// Opens the SSE event stream, resuming after `last_event_id` when given. Paced like every
    /// call; not retried. The stream ends when Lag closes it.
    pub(crate) async fn sse_raw(&self, last_event_id: Option<&str>) -> Result<ByteStream> {
        let mut call = Call::new(Method::GET, "event stream", robot_path(&["events", "sse"]));
        call.retry = Retry::Never;
        call.streams = true;
        call.headers
            .push(("accept", "text/event-stream".to_owned()));
        if let Some(id) = last_event_id {
            call.headers.push(("last-event-id", id.to_owned()));
        }
        let response = self.attempt_loop(call).await?.0;
        Ok(response
            .bytes_stream()
            .map_err(|err| {
                Error::new(ErrorKind::Connection, format!("event stream broke: {err}"))
                    .with_source(err)
            })
            .boxed())
    }
}
