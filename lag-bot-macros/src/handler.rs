//! What the three attributes share: checking the attributed `async fn` and splitting it into
//! the parts the expansions need.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, FnArg, Ident, ItemFn, Lit, Meta, Pat, Type};

/// Errors collected while parsing, reported all at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(existing) => existing.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// An error covering `tokens`, first to last.
    pub(crate) fn at(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// An error at one span.
    pub(crate) fn at_span(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn take(self) -> Option<syn::Error> {
        self.0
    }
}

/// A parameter after the context.
pub(crate) struct Param {
    /// The name shown to authors (leading `_` and `r#` removed).
    pub name: String,
    pub ty: Type,
}

/// An attributed `async fn`, checked.
pub(crate) struct HandlerFn {
    pub item: ItemFn,
    pub ctx_ty: Type,
    pub params: Vec<Param>,
    pub help: String,
}

impl HandlerFn {
    /// Checks the shape every handler must have: a free, non-generic `async fn` whose first
    /// parameter is the context. `what` names the attribute in messages (`#[command]`).
    pub(crate) fn parse(item: &ItemFn, what: &str, errors: &mut Errors) -> Option<Self> {
        let sig = &item.sig;
        if sig.asyncness.is_none() {
            errors.at(
                sig.fn_token,
                format!(
                    "{what} functions must be `async`: write `async fn {}`",
                    sig.ident
                ),
            );
        }
        if let Some(constness) = &sig.constness {
            errors.at(constness, format!("{what} functions cannot be `const`"));
        }
        if let Some(unsafety) = &sig.unsafety {
            errors.at(unsafety, format!("{what} functions cannot be `unsafe`"));
        }
        if let Some(abi) = &sig.abi {
            errors.at(abi, format!("{what} functions cannot have an ABI"));
        }
        if !sig.generics.params.is_empty() {
            errors.at(
                &sig.generics,
                format!(
                    "{what} functions cannot be generic; the robot's state type comes from the \
                     context parameter, e.g. `ctx: Ctx<MyState>`"
                ),
            );
        } else if let Some(where_clause) = &sig.generics.where_clause {
            errors.at(
                where_clause,
                format!("{what} functions cannot have a `where` clause"),
            );
        }
        if let Some(variadic) = &sig.variadic {
            errors.at(variadic, format!("{what} functions cannot be variadic"));
        }

        let mut inputs = sig.inputs.iter();
        let ctx_ty = match inputs.next() {
            Some(FnArg::Typed(ctx)) if matches!(*ctx.ty, Type::Reference(_)) => {
                errors.at(
                    &ctx.ty,
                    "take the context by value, e.g. `ctx: Ctx`; it is a cheap handle, clone it \
                     where you need another",
                );
                None
            }
            Some(FnArg::Typed(ctx)) => Some((*ctx.ty).clone()),
            Some(FnArg::Receiver(receiver)) => {
                errors.at(
                    receiver,
                    format!(
                        "{what} functions cannot take `self`: write a free function whose first \
                         parameter is the context, `ctx: Ctx`"
                    ),
                );
                None
            }
            None => {
                errors.at_span(
                    sig.paren_token.span.join(),
                    format!(
                        "{what} functions take the context first: `{}(ctx: Ctx)`",
                        sig.ident
                    ),
                );
                None
            }
        };

        let mut params = Vec::new();
        for input in inputs {
            match input {
                FnArg::Typed(typed) => match param_name(&typed.pat) {
                    Some(name) => params.push(Param {
                        name,
                        ty: (*typed.ty).clone(),
                    }),
                    None => errors.at(
                        &typed.pat,
                        "name this parameter with a plain identifier: the name is shown to users",
                    ),
                },
                FnArg::Receiver(receiver) => {
                    errors.at(receiver, format!("{what} functions cannot take `self`"));
                }
            }
        }

        Some(Self {
            item: item.clone(),
            ctx_ty: ctx_ty?,
            params,
            help: doc_text(&item.attrs),
        })
    }

    pub(crate) fn name(&self) -> &Ident {
        &self.item.sig.ident
    }

    /// The user's doc comments and `cfg`/`deprecated` attributes go on the generated function;
    /// every other attribute stays on the handler itself.
    pub(crate) fn split_attrs(&self) -> (Vec<&Attribute>, Vec<&Attribute>) {
        self.item.attrs.iter().partition(|attr| {
            let path = attr.path();
            path.is_ident("doc") || path.is_ident("cfg") || path.is_ident("deprecated")
        })
    }

    /// The handler, moved inside the generated function under the same name.
    pub(crate) fn inner_fn(&self) -> TokenStream {
        let (_, inner_attrs) = self.split_attrs();
        let mut inner = self.item.clone();
        inner.attrs = inner_attrs.into_iter().cloned().collect();
        inner.vis = syn::Visibility::Inherited;
        inner.to_token_stream()
    }

    /// `<Ctx<S> as Context>::State`, spanned on the context type so a wrong one is reported
    /// there.
    pub(crate) fn state_ty(&self) -> TokenStream {
        let ctx_ty = &self.ctx_ty;
        quote_spanned! {ctx_ty.span()=>
            <#ctx_ty as ::lag_bot::__private::Context>::State
        }
    }

    /// The generated function's signature line: docs, visibility, name, return type.
    pub(crate) fn outer_fn(&self, returns: TokenStream, body: TokenStream) -> TokenStream {
        let (outer_attrs, _) = self.split_attrs();
        let vis = &self.item.vis;
        let name = self.name();
        quote! {
            #(#outer_attrs)*
            #vis fn #name() -> #returns {
                #body
            }
        }
    }

    /// The handler's name as a label (a raw identifier without its `r#`).
    pub(crate) fn label(&self) -> String {
        let name = self.name().to_string();
        name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
    }

    /// A listener closure's body: calls the handler with the context and, when it takes one,
    /// the closure's argument named `value`, and turns the output into a reply.
    pub(crate) fn listener_call(&self, value: &str) -> TokenStream {
        let ctx_ty = &self.ctx_ty;
        let name = self.name();
        let ctx = quote_spanned! {ctx_ty.span()=>
            <#ctx_ty as ::lag_bot::__private::Context>::from_ctx(__ctx)
        };
        let args = match self.params.first() {
            Some(param) => {
                let value = Ident::new(value, param.ty.span());
                quote! { #ctx, #value }
            }
            None => quote! { #ctx },
        };
        let output = self.output_span();
        let future = quote_spanned! {output=> __future };
        let reply = quote_spanned! {output=> ::lag_bot::__private::replying(#future) };
        quote! {
            let #future = #name(#args);
            #reply
        }
    }

    /// `__a0, __a1, ...` for the parameters after the context.
    pub(crate) fn arg_idents(&self) -> Vec<Ident> {
        (0..self.params.len())
            .map(|i| format_ident!("__lag_bot_arg{}", i))
            .collect()
    }

    /// A check, spanned on the return type, that the handler's output can be turned into a reply.
    pub(crate) fn output_span(&self) -> Span {
        match &self.item.sig.output {
            syn::ReturnType::Default => self.item.sig.ident.span(),
            syn::ReturnType::Type(_, ty) => ty.span(),
        }
    }
}

/// What one attribute macro needs from the shared expansion: its name in messages, how the
/// attributed function should look, how to read its arguments and how to expand.
pub(crate) struct AttributeMacro<'a, A> {
    /// The attribute as users write it, e.g. "`#[on(...)]`".
    pub(crate) name: &'a str,
    /// An example signature shown when the item is not a function.
    pub(crate) example: &'a str,
    /// For listeners and jobs, which take at most `.0` parameters after the context: what to
    /// say about each further parameter.
    pub(crate) extra_param: Option<(usize, &'a str)>,
    /// Reads the attribute's arguments.
    pub(crate) parse: fn(TokenStream, &mut Errors) -> Option<A>,
    /// Expands a checked attribute and function.
    pub(crate) expand: fn(&A, &HandlerFn) -> TokenStream,
}

impl<A> AttributeMacro<'_, A> {
    /// Parses the attribute and the function, reporting every error at once next to the
    /// user's unchanged function, or expands them.
    pub(crate) fn run(&self, attr: TokenStream, item: TokenStream) -> TokenStream {
        let function: ItemFn = match syn::parse2(item.clone()) {
            Ok(function) => function,
            Err(_) => {
                let message = format!(
                    "{} goes on an `async fn`, e.g. `{}`",
                    self.name, self.example
                );
                return with_errors(syn::Error::new(Span::call_site(), message), item);
            }
        };
        let mut errors = Errors::default();
        let parsed = (self.parse)(attr, &mut errors);
        let handler = HandlerFn::parse(&function, self.name, &mut errors);
        if let (Some(handler), Some((allowed, message))) = (&handler, self.extra_param) {
            for extra in handler.params.iter().skip(allowed) {
                errors.at(&extra.ty, message);
            }
        }
        match (parsed, handler, errors.take()) {
            (Some(parsed), Some(handler), None) => (self.expand)(&parsed, &handler),
            (_, _, Some(error)) => with_errors(error, item),
            _ => with_errors(
                syn::Error::new(Span::call_site(), format!("invalid {}", self.name)),
                item,
            ),
        }
    }
}

/// The user's function unchanged, next to the errors found in it, so that the errors are all
/// that is reported.
pub(crate) fn with_errors(error: syn::Error, item: TokenStream) -> TokenStream {
    let errors = error.to_compile_error();
    quote! {
        #errors
        #item
    }
}

fn param_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(ident) if ident.subpat.is_none() => {
            let name = ident.ident.to_string();
            let name = name.strip_prefix("r#").unwrap_or(&name);
            let trimmed = name.trim_start_matches('_');
            Some(if trimmed.is_empty() { name } else { trimmed }.to_owned())
        }
        _ => None,
    }
}

/// The doc comment, as written: one leading space per line removed, surrounding blank lines
/// dropped.
fn doc_text(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|text| {
            text.split('\n')
                .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    lines.join("\n").trim().to_owned()
}

/// The closest of `candidates` to `typed`, for "did you mean" in compile errors.
pub(crate) fn closest<'a>(typed: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(typed, c), *c))
        .filter(|(distance, c)| *distance <= (c.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}
