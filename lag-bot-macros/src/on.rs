//! `#[on(member_join)]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn};

use crate::handler::{Errors, HandlerFn, closest, with_errors};

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
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[on(...)]` goes on an `async fn`, e.g. `async fn welcome(ctx: Ctx, join: MemberJoin)`",
            );
            return with_errors(error, item);
        }
    };
    let mut errors = Errors::default();
    let payload = parse_attr(attr, &mut errors);
    let handler = HandlerFn::parse(&function, "`#[on(...)]`", &mut errors);
    if let Some(handler) = &handler {
        for extra in handler.params.iter().skip(1) {
            errors.at(
                &extra.ty,
                "an `#[on(...)]` listener takes the context and the event's payload; remove this parameter",
            );
        }
    }
    match (payload, handler, errors.take()) {
        (Some(payload), Some(handler), None) => expand_listener(&payload, &handler),
        (_, _, Some(error)) => with_errors(error, item),
        _ => with_errors(
            syn::Error::new(Span::call_site(), "invalid `#[on(...)]`"),
            item,
        ),
    }
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
    let ctx_ty = &handler.ctx_ty;
    let inner = handler.inner_fn();
    let name = handler.name();
    let label = name.to_string();
    let label = label.strip_prefix("r#").unwrap_or(&label);
    let ctx = quote_spanned! {ctx_ty.span()=>
        <#ctx_ty as ::lag_bot::__private::Context>::from_ctx(__ctx)
    };
    let args = match handler.params.first() {
        Some(param) => {
            let payload_arg = quote_spanned! {param.ty.span()=> __payload };
            quote! { #ctx, #payload_arg }
        }
        None => quote! { #ctx },
    };
    let output = handler.output_span();
    let future = quote_spanned! {output=> __future };
    let reply = quote_spanned! {output=> ::lag_bot::__private::replying(#future) };
    let body = quote! {
        #inner
        ::lag_bot::__private::Listener::new(
            move |__ctx, __payload: ::lag_bot::__private::events::#payload| {
                let #future = #name(#args);
                #reply
            },
        )
        .named(#label)
    };
    handler.outer_fn(
        quote_spanned! {ctx_ty.span()=> ::lag_bot::__private::Listener<#state> },
        body,
    )
}
