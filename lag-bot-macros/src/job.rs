//! `#[every("5m")]` and `#[cron("0 9 * * *", tz = "Europe/Paris")]`.

use std::str::FromStr;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Token};

use crate::handler::{AttributeMacro, Errors, HandlerFn};

const EXTRA_PARAM: &str =
    "a job takes only the context, e.g. `async fn poll(ctx: Ctx)`; remove this parameter";

pub(crate) fn expand_every(attr: TokenStream, item: TokenStream) -> TokenStream {
    AttributeMacro {
        name: "`#[every(...)]`",
        example: "#[every(\"5m\")] async fn poll(ctx: Ctx)",
        extra_param: Some((0, EXTRA_PARAM)),
        parse: parse_every,
        expand: expand_job,
    }
    .run(attr, item)
}

pub(crate) fn expand_cron(attr: TokenStream, item: TokenStream) -> TokenStream {
    AttributeMacro {
        name: "`#[cron(...)]`",
        example: "#[cron(\"0 9 * * *\")] async fn morning(ctx: Ctx)",
        extra_param: Some((0, EXTRA_PARAM)),
        parse: parse_cron,
        expand: expand_job,
    }
    .run(attr, item)
}

/// The schedule expression the expansion builds, spanned on the attribute's argument.
fn parse_every(attr: TokenStream, errors: &mut Errors) -> Option<TokenStream> {
    let Ok(text) = syn::parse2::<LitStr>(attr.clone()) else {
        errors.at_span(
            attr.span(),
            "give the period as text, e.g. `#[every(\"5m\")]` (s, m, h, d: `90s`, `1h30m`)",
        );
        return None;
    };
    match parse_period(&text.value()) {
        Ok(secs) => Some(quote_spanned! {text.span()=>
            ::lag_bot::__private::Schedule::every(::std::time::Duration::from_secs(#secs))
        }),
        Err(reason) => {
            errors.at(&text, reason);
            None
        }
    }
}

/// `90s`, `5m`, `1h30m`, `2d`: whole seconds, at least one.
fn parse_period(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}` is not a period: write it like `90s`, `5m`, `1h30m` or `2d`");
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let amount: u64 = number.parse().map_err(|_| bad())?;
        total = amount
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return Err(
            if total == 0 && number.is_empty() && !text.trim().is_empty() {
                format!("`{text}` is no time at all: a job's period is at least one second")
            } else {
                bad()
            },
        );
    }
    Ok(total)
}

/// `"expression"` or `"expression", tz = "Zone/Name"`.
struct CronArgs {
    expression: LitStr,
    zone: Option<LitStr>,
}

impl Parse for CronArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let expression: LitStr = input.parse()?;
        let mut zone = None;
        if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let key: Ident = input.parse()?;
            if key != "tz" {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown `#[cron]` option `{key}`; the one option is `tz = \"Europe/Paris\"`"
                    ),
                ));
            }
            input.parse::<Token![=]>()?;
            zone = Some(input.parse()?);
            input.parse::<Option<Token![,]>>()?;
        }
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the `#[cron]` arguments"));
        }
        Ok(Self { expression, zone })
    }
}

fn parse_cron(attr: TokenStream, errors: &mut Errors) -> Option<TokenStream> {
    if attr.is_empty() {
        errors.at_span(
            Span::call_site(),
            "give the cron expression, e.g. `#[cron(\"0 9 * * *\")]` (minute hour day month weekday)",
        );
        return None;
    }
    let args: CronArgs = match syn::parse2(attr) {
        Ok(args) => args,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let expression = args.expression.value();
    if let Err(error) = croner::Cron::from_str(expression.trim()) {
        errors.at(
            &args.expression,
            format!("invalid cron expression `{expression}`: {error}"),
        );
        return None;
    }
    let zone = match &args.zone {
        Some(zone)
            if zone.value().trim().is_empty() || zone.value().contains(char::is_whitespace) =>
        {
            errors.at(
                zone,
                "a time zone is a tz database name such as `Europe/Paris` or `UTC`",
            );
            return None;
        }
        Some(zone) => quote! { ::core::option::Option::Some(#zone) },
        None => quote! { ::core::option::Option::None },
    };
    let literal = &args.expression;
    Some(quote_spanned! {literal.span()=>
        ::lag_bot::__private::Schedule::__checked_cron(#literal, #zone)
    })
}

fn expand_job(schedule: &TokenStream, handler: &HandlerFn) -> TokenStream {
    let state = handler.state_ty();
    let inner = handler.inner_fn();
    let label = handler.label();
    let call = handler.listener_call("__unused");
    let body = quote! {
        #inner
        ::lag_bot::__private::Job::new(#label, #schedule, move |__ctx| { #call })
    };
    handler.outer_fn(
        quote_spanned! {handler.ctx_ty.span()=> ::lag_bot::__private::Job<#state> },
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::parse_period;

    #[test]
    fn periods() {
        assert_eq!(parse_period("90s"), Ok(90));
        assert_eq!(parse_period("1h30m"), Ok(5_400));
        assert_eq!(parse_period("2d"), Ok(172_800));
        assert!(parse_period("5").is_err());
        assert!(parse_period("5 minutes").is_err());
        assert!(parse_period("0s").unwrap_err().contains("no time at all"));
    }
}
