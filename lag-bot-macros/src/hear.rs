//! `#[hear(r"(?i)\bspam\b")]`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::LitStr;
use syn::spanned::Spanned;

use crate::handler::{AttributeMacro, Errors, HandlerFn};

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    AttributeMacro {
        name: "`#[hear(...)]`",
        example: "async fn spam(ctx: Ctx, caps: Captures)",
        extra_param: Some((
            1,
            "a `#[hear(...)]` listener takes the context and the `Captures`; remove this parameter",
        )),
        parse: parse_attr,
        expand: expand_hear,
    }
    .run(attr, item)
}

fn parse_attr(attr: TokenStream, errors: &mut Errors) -> Option<LitStr> {
    const USAGE: &str = "expected a regular expression, e.g. `#[hear(r\"(?i)\\bspam\\b\")]`";
    if attr.is_empty() {
        errors.at_span(Span::call_site(), USAGE);
        return None;
    }
    let pattern: LitStr = match syn::parse2(attr) {
        Ok(pattern) => pattern,
        Err(error) => {
            errors.push(syn::Error::new(error.span(), USAGE));
            return None;
        }
    };
    let value = pattern.value();
    if value.is_empty() {
        errors.at(
            &pattern,
            "the pattern is empty; it would match every message",
        );
        return None;
    }
    if let Err(error) = regex_syntax::Parser::new().parse(&value) {
        errors.at(&pattern, format!("invalid regular expression:\n{error}"));
        return None;
    }
    Some(pattern)
}

fn expand_hear(pattern: &LitStr, handler: &HandlerFn) -> TokenStream {
    let state = handler.state_ty();
    let inner = handler.inner_fn();
    let label = handler.label();
    let call = handler.listener_call("__captures");
    let body = quote! {
        #inner
        ::lag_bot::__private::hear(#pattern, #label, move |__ctx, __captures| { #call })
    };
    handler.outer_fn(
        quote_spanned! {handler.ctx_ty.span()=> ::lag_bot::__private::Hear<#state> },
        body,
    )
}
