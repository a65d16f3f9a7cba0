//! `#[on(member_join)]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use crate::handler::{AttributeMacro, Errors, HandlerFn, closest};

/// Every event kind a listener can name, with its payload type in `lag_bot::events`.
const EVENTS: &[(&str, &str)] = &[
    ("room_message", "RoomMessage"),
    ("room_message_edited", "RoomMessageEdited"),
    ("room_message_deleted", "RoomMessageDeleted"),
    ("voice_join", "VoiceJoin"),
    ("voice_leave", "VoiceLeave"),
    ("member_join", "MemberJoin"),
    ("member_leave", "MemberLeave"),
    ("member_role_changed", "MemberRoleChanged"),
    ("room_created", "RoomCreated"),
    ("room_deleted", "RoomDeleted"),
    ("presence_update", "PresenceUpdate"),
    ("server_updated", "ServerUpdated"),
    ("robot_mentioned", "RobotMentioned"),
];

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    AttributeMacro {
        name: "`#[on(...)]`",
        example: "async fn welcome(ctx: Ctx, join: MemberJoin)",
        extra_param: Some((
            1,
            "an `#[on(...)]` listener takes the context and the event's payload; remove this parameter",
        )),
        parse: parse_attr,
        expand: expand_listener,
    }
    .run(attr, item)
}

/// The payload type's name for the event the attribute names.
fn parse_attr(attr: TokenStream, errors: &mut Errors) -> Option<Ident> {
    let names: Vec<&str> = EVENTS.iter().map(|(name, _)| *name).collect();
    if attr.is_empty() {
        errors.at_span(
            Span::call_site(),
            format!(
                "name the event to listen for, e.g. `#[on(member_join)]`; events: {}",
                names.join(", ")
            ),
        );
        return None;
    }
    let event: Ident = match syn::parse2(attr) {
        Ok(event) => event,
        Err(error) => {
            errors.push(syn::Error::new(
                error.span(),
                "expected one event name, e.g. `#[on(member_join)]`",
            ));
            return None;
        }
    };
    let name = event.to_string();
    match EVENTS.iter().find(|(known, _)| *known == name) {
        Some((_, payload)) => Some(format_ident!("{}", payload, span = event.span())),
        None => {
            let hint = match closest(&name, &names) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("events: {}", names.join(", ")),
            };
            errors.at(&event, format!("unknown event `{name}`; {hint}"));
            None
        }
    }
}

fn expand_listener(payload: &Ident, handler: &HandlerFn) -> TokenStream {
    let state = handler.state_ty();
    let inner = handler.inner_fn();
    let label = handler.label();
    let call = handler.listener_call("__payload");
    let body = quote! {
        #inner
        ::lag_bot::__private::Listener::new(
            move |__ctx, __payload: ::lag_bot::__private::events::#payload| { #call },
        )
        .named(#label)
    };
    handler.outer_fn(
        quote_spanned! {handler.ctx_ty.span()=> ::lag_bot::__private::Listener<#state> },
        body,
    )
}
