//! `#[command("!roll", aliases("!dice"))]`, and groups:
//! `#[command("!mod", subcommands(strikes, pardon), category = "Moderation")]`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Token};

use crate::handler::{AttributeMacro, Errors, HandlerFn};

/// The attribute's arguments, checked.
struct CommandAttr {
    trigger: LitStr,
    aliases: Vec<LitStr>,
    /// The functions of the group's subcommands, each a `#[command]` function.
    subcommands: Vec<syn::Ident>,
    category: Option<LitStr>,
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    AttributeMacro {
        name: "`#[command]`",
        example: "async fn roll(ctx: Ctx, sides: Option<u32>)",
        extra_param: None,
        parse: parse_attr,
        expand: expand_command,
    }
    .run(attr, item)
}

fn parse_attr(attr: TokenStream, errors: &mut Errors) -> Option<CommandAttr> {
    const USAGE: &str = "expected a trigger, e.g. `#[command(\"!roll\")]` or `#[command(\"!roll\", aliases(\"!dice\"))]`";
    const SUBCOMMAND: &str =
        "a subcommand is the name of a `#[command]` function, e.g. `subcommands(strikes, pardon)`";
    let items = match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(attr) {
        Ok(items) => items,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let mut items = items.into_iter();
    let trigger = match items.next() {
        Some(Expr::Lit(ExprLit {
            lit: Lit::Str(trigger),
            ..
        })) => trigger,
        Some(other) => {
            errors.at(&other, USAGE);
            return None;
        }
        None => {
            errors.at_span(Span::call_site(), USAGE);
            return None;
        }
    };
    let trigger_name = check_trigger(&trigger, "trigger", errors);
    let mut seen: Vec<String> = Vec::new();
    let mut aliases = Vec::new();
    let mut aliases_given = false;
    let mut subcommands: Vec<syn::Ident> = Vec::new();
    let mut subcommands_given = false;
    let mut category: Option<LitStr> = None;
    for item in items {
        match &item {
            Expr::Call(call) if is_ident(&call.func, "aliases") => {
                if aliases_given {
                    errors.at(
                        &call.func,
                        "`aliases(...)` is given twice; list every alias in one",
                    );
                }
                aliases_given = true;
                if call.args.is_empty() {
                    errors.at(
                        &call.func,
                        "`aliases()` is empty; remove it or list the aliases",
                    );
                }
                for arg in &call.args {
                    let Expr::Lit(ExprLit {
                        lit: Lit::Str(alias),
                        ..
                    }) = arg
                    else {
                        errors.at(
                            arg,
                            "an alias is a string literal, e.g. `aliases(\"!dice\")`",
                        );
                        continue;
                    };
                    let Some(name) = check_trigger(alias, "alias", errors) else {
                        continue;
                    };
                    if trigger_name.as_ref() == Some(&name) {
                        errors.at(
                            alias,
                            format!("alias `{}` repeats the trigger", alias.value()),
                        );
                    } else if seen.contains(&name) {
                        errors.at(alias, format!("duplicate alias `{}`", alias.value()));
                    } else {
                        seen.push(name);
                        aliases.push(alias.clone());
                    }
                }
            }
            Expr::Call(call) if is_ident(&call.func, "subcommands") => {
                if subcommands_given {
                    errors.at(
                        &call.func,
                        "`subcommands(...)` is given twice; list every subcommand in one",
                    );
                }
                subcommands_given = true;
                if call.args.is_empty() {
                    errors.at(
                        &call.func,
                        "`subcommands()` is empty; remove it or list the subcommands",
                    );
                }
                for arg in &call.args {
                    let Expr::Path(path) = arg else {
                        errors.at(arg, SUBCOMMAND);
                        continue;
                    };
                    let Some(ident) = path.path.get_ident() else {
                        errors.at(arg, SUBCOMMAND);
                        continue;
                    };
                    if subcommands.contains(ident) {
                        errors.at(ident, format!("duplicate subcommand `{ident}`"));
                    } else {
                        subcommands.push(ident.clone());
                    }
                }
            }
            Expr::Assign(assign) if is_ident(&assign.left, "category") => match &*assign.right {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(name),
                    ..
                }) if !name.value().trim().is_empty() => {
                    if category.is_some() {
                        errors.at(&assign.left, "`category` is given twice");
                    }
                    category = Some(name.clone());
                }
                other => errors.at(
                    other,
                    "a category is a non-empty string, e.g. `category = \"Moderation\"`",
                ),
            },
            Expr::Lit(ExprLit {
                lit: Lit::Str(extra),
                ..
            }) => errors.at(
                extra,
                format!(
                    "a command has one trigger; write more as aliases: `aliases({})`",
                    extra.token()
                ),
            ),
            other => {
                let option = match other {
                    Expr::Call(call) => call.func.to_token_stream(),
                    Expr::Assign(assign) => assign.left.to_token_stream(),
                    other => other.to_token_stream(),
                };
                errors.at(
                    option,
                    "unknown `#[command]` option; it takes a trigger, `aliases(...)`, \
                     `subcommands(...)` and `category = \"...\"`. Set cooldowns, checks and \
                     `hidden` with the builder methods of the `Command` it returns, e.g. \
                     `roll().cooldown(...)`",
                );
            }
        }
    }
    Some(CommandAttr {
        trigger,
        aliases,
        subcommands,
        category,
    })
}

fn is_ident(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Path(path) if path.path.is_ident(name))
}

/// Checks a trigger or alias; returns its name (the part after the prefix).
fn check_trigger(lit: &LitStr, what: &str, errors: &mut Errors) -> Option<String> {
    let value = lit.value();
    if value.trim().is_empty() {
        errors.at(
            lit,
            format!("the {what} is empty; write the word users type, e.g. \"!roll\""),
        );
        return None;
    }
    if value.chars().any(char::is_whitespace) {
        errors.at(
            lit,
            format!("the {what} {value:?} contains whitespace; a {what} is one word"),
        );
        return None;
    }
    let name = value.trim_start_matches(|c: char| c.is_ascii_punctuation());
    if name.is_empty() {
        errors.at(
            lit,
            format!("the {what} {value:?} has no name after its prefix, e.g. \"!roll\""),
        );
        return None;
    }
    Some(name.to_owned())
}

fn expand_command(attr: &CommandAttr, handler: &HandlerFn) -> TokenStream {
    let state = handler.state_ty();
    let ctx_ty = &handler.ctx_ty;
    let inner = handler.inner_fn();
    let name = handler.name();
    let label = handler.label();
    let trigger = &attr.trigger;
    let aliases = &attr.aliases;
    let args = handler.arg_idents();
    let params = handler.params.iter().map(|param| {
        let ty = &param.ty;
        let param_name = &param.name;
        quote_spanned! {ty.span()=> ::lag_bot::__private::param::<#ty>(#param_name) }
    });
    let parses = handler
        .params
        .iter()
        .zip(&args)
        .enumerate()
        .map(|(index, (param, arg))| {
            let ty = &param.ty;
            quote_spanned! {ty.span()=>
                let #arg = ::lag_bot::__private::parse::<#ty>(__args, __params, #index)?;
            }
        });
    let ctx = quote_spanned! {ctx_ty.span()=>
        <#ctx_ty as ::lag_bot::__private::Context>::from_ctx(__ctx)
    };
    let output = handler.output_span();
    let future = quote_spanned! {output=> __future };
    let reply = quote_spanned! {output=> ::lag_bot::__private::reply_future(#future) };
    let help = &handler.help;
    let subcommands = attr.subcommands.iter().map(|sub| {
        quote_spanned! {sub.span()=> .subcommand(::lag_bot::__private::subcommand(#sub())) }
    });
    let category = attr
        .category
        .iter()
        .map(|category| quote! { .category(#category) });
    let body = quote! {
        #inner
        ::lag_bot::__private::command(
            #trigger,
            #label,
            [#(#params),*],
            move |__ctx, __args, __params| {
                #(#parses)*
                ::lag_bot::__private::finish(__args)?;
                let #future = #name(#ctx, #(#args),*);
                ::lag_bot::__private::Ok(#reply)
            },
        )
        #(.alias(#aliases))*
        .help(#help)
        #(#subcommands)*
        #(#category)*
    };
    handler.outer_fn(
        quote_spanned! {ctx_ty.span()=> ::lag_bot::__private::Command<#state> },
        body,
    )
}
