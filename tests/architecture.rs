//! Architecture check: no two modules of `lag-bot` or `lag-sim` import each other.
//!
//! The design keeps data flowing one way (transport, event, robot, command, reply, client), and
//! a cycle between modules is the first sign that this is eroding. The check reads the sources
//! with `syn`, so it sees what a reader sees:
//!
//! 1. The module tree comes from `lib.rs` and its `mod x;` declarations (`x.rs` or `x/mod.rs`);
//!    inline `mod x { .. }` blocks are modules too. `#[cfg(test)]` items are skipped: tests may
//!    import anything.
//! 2. A module refers to another through `use` items and any `crate::`, `super::` or `self::`
//!    path in its code, types or macro arguments. A path resolves to the deepest module it names,
//!    and a name that a module only imports (`pub use error::Error;` in `lib.rs`) is followed to
//!    the module that defines it.
//! 3. An edge A -> B is lifted to the two children of their lowest common ancestor that contain
//!    A and B. Edges between a module and its own ancestor are allowed: a parent re-exports its
//!    children, and children use their parent's items through `super::`.
//! 4. Under every module, the graph between its children must be acyclic. A failure lists each
//!    cycle with the references (file, line, path) that make it, so a reader knows what to move.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Item, Meta, Token, UseTree};

/// A module's place in its crate: `[]` is the crate root, `["command", "router"]` a grandchild.
type ModPath = Vec<String>;

/// The names a module's own `use` items bring in, each with its path as written.
type Imports = BTreeMap<String, Vec<String>>;

/// Under one parent module: (from child, to child) -> the references that make that edge.
type SiblingGraph = BTreeMap<(String, String), Vec<String>>;

/// How many cycles are spelled out under one parent module, however tangled it is.
const MAX_CYCLES: usize = 20;

/// A path in a module that may name another module of the same crate.
struct Reference {
    from: ModPath,
    /// Segments as written: `crate`, `self`, `super` or (in `use`) a child module comes first.
    written: Vec<String>,
    /// `file:line`, with the file relative to the directory the crate was read from.
    location: String,
}

/// A crate as read from its sources: its module tree and every reference its modules make.
struct Crate {
    base: PathBuf,
    modules: BTreeMap<ModPath, Imports>,
    references: Vec<Reference>,
}

/// Reads the crate whose `lib.rs` is in `base/src` and describes every cycle between its
/// modules; reports name files relative to `base`.
fn find_cycles(base: &Path, src: &str) -> Vec<String> {
    let (modules, references) = (BTreeMap::new(), Vec::new());
    let mut krate = Crate {
        base: base.to_owned(),
        modules,
        references,
    };
    let dir = base.join(src);
    krate.load_file(ModPath::new(), &dir.join("lib.rs"), &dir);

    let mut graphs: BTreeMap<ModPath, SiblingGraph> = BTreeMap::new();
    for reference in &krate.references {
        let Some(target) = krate.absolute(&reference.from, &reference.written) else {
            continue; // another crate: std, tokio, ...
        };
        let target = krate.resolve(target);
        if let Some((parent, edge)) = lift(&reference.from, &target) {
            let (location, path) = (&reference.location, reference.written.join("::"));
            let evidence = format!("{location}: {path} (resolves to {})", show(&target));
            let graph = graphs.entry(parent).or_default();
            graph.entry(edge).or_default().push(evidence);
        }
    }
    let mut reports = Vec::new();
    for (parent, graph) in &graphs {
        for cycle in cycles(graph) {
            reports.push(describe(src, parent, graph, &cycle));
        }
    }
    reports
}

impl Crate {
    /// Adds the module at `path` written in `file`; its `mod x;` children live in `dir`.
    fn load_file(&mut self, path: ModPath, file: &Path, dir: &Path) {
        let source = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let parsed = syn::parse_file(&source).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let shown = file
            .strip_prefix(&self.base)
            .expect("module files are under the base");
        let shown = shown.to_string_lossy().replace('\\', "/");
        self.load_module(path, &parsed.items, dir, &shown);
    }

    /// Adds the module at `path` made of `items` in `file`; its `mod x;` children live in `dir`.
    fn load_module(&mut self, path: ModPath, items: &[Item], dir: &Path, file: &str) {
        let mut imports = Imports::new();
        for item in items.iter().filter(|item| !is_test_only(*item)) {
            match item {
                Item::Mod(module) => {
                    let name = module.ident.to_string();
                    let (child_path, child_dir) = (child(&path, &name), dir.join(&name));
                    match &module.content {
                        Some((_, inline)) => self.load_module(child_path, inline, &child_dir, file),
                        None => self.load_file(child_path, &module_file(dir, &name), &child_dir),
                    }
                }
                Item::Use(item) if item.leading_colon.is_none() => {
                    for (written, binding, _) in flatten_use(&item.tree) {
                        if let Some(name) = binding {
                            imports.insert(name, written);
                        }
                    }
                }
                _ => {}
            }
            let mut collector = PathCollector {
                krate: self,
                module: &path,
                file,
            };
            collector.visit_item(item);
        }
        self.modules.insert(path, imports);
    }

    /// Turns a path as written in module `from` into segments from the crate root, or `None`
    /// when it leaves the crate.
    fn absolute(&self, from: &ModPath, written: &[String]) -> Option<Vec<String>> {
        let mut segments = written.iter().peekable();
        let mut path = match segments.peek()?.as_str() {
            "crate" => Vec::new(),
            "self" | "super" => from.clone(),
            name if self.modules.contains_key(&child(from, name)) => from.clone(),
            _ => return None,
        };
        segments.next_if(|segment| *segment == "crate" || *segment == "self");
        while segments.next_if(|segment| *segment == "super").is_some() {
            path.pop()?;
        }
        path.extend(segments.cloned());
        Some(path)
    }

    /// The deepest module an absolute path names, following a name that a module only imports
    /// to the module that defines it.
    fn resolve(&self, mut path: Vec<String>) -> ModPath {
        'follow: for _ in 0..32 {
            let mut module = ModPath::new();
            for (at, segment) in path.iter().enumerate() {
                let deeper = child(&module, segment);
                if self.modules.contains_key(&deeper) {
                    module = deeper;
                    continue;
                }
                let imported = self
                    .modules
                    .get(&module)
                    .and_then(|names| names.get(segment));
                match imported.and_then(|written| self.absolute(&module, written)) {
                    Some(mut target) if target != path[..=at] => {
                        target.extend_from_slice(&path[at + 1..]);
                        path = target;
                        continue 'follow;
                    }
                    _ => return module,
                }
            }
            return module;
        }
        panic!("imports of {} never reach a definition", path.join("::"))
    }
}

/// The file of `mod name;` declared by a module whose children live in `dir`.
fn module_file(dir: &Path, name: &str) -> PathBuf {
    let candidates = [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ];
    let found = candidates.into_iter().find(|file| file.is_file());
    found.unwrap_or_else(|| panic!("no file for `mod {name};` in {}", dir.display()))
}

fn child(module: &ModPath, name: &str) -> ModPath {
    let mut path = module.clone();
    path.push(name.to_owned());
    path
}

fn show(module: &ModPath) -> String {
    format!(
        "crate{}",
        module
            .iter()
            .map(|name| format!("::{name}"))
            .collect::<String>()
    )
}

/// Whether a node carries `#[cfg(test)]` or `#[cfg(all(test, ..))]`. Its attributes are read
/// back from its tokens: `syn` has no accessor shared by items, impl items and trait items.
fn is_test_only(node: &impl ToTokens) -> bool {
    fn requires_test(meta: &Meta) -> bool {
        match meta {
            Meta::Path(path) => path.is_ident("test"),
            Meta::List(list) if list.path.is_ident("all") => list
                .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .is_ok_and(|all| all.iter().any(requires_test)),
            _ => false,
        }
    }
    let outer_attributes = |input: ParseStream<'_>| {
        let attributes = input.call(Attribute::parse_outer)?;
        input.parse::<TokenStream>()?;
        Ok(attributes)
    };
    let attributes = outer_attributes.parse2(node.to_token_stream());
    let cfgs = attributes
        .iter()
        .flatten()
        .filter(|attr| attr.path().is_ident("cfg"));
    cfgs.filter_map(|attr| attr.parse_args::<Meta>().ok())
        .any(|meta| requires_test(&meta))
}

/// The leaves of a `use` tree: the path as written, the name it binds, where it is.
/// `use a::{b, c as d, e::*}` gives `a::b` (b), `a::c` (d) and `a::e::*` (no name).
fn flatten_use(tree: &UseTree) -> Vec<(Vec<String>, Option<String>, Span)> {
    fn walk(tree: &UseTree, prefix: &mut Vec<String>, leaves: &mut Vec<UseLeaf>) {
        let mut leaf = |name: String, rename: Option<&syn::Ident>, span: Span| {
            let mut written = prefix.clone();
            if name != "self" {
                written.push(name);
            }
            let binding = rename
                .map(ToString::to_string)
                .or_else(|| written.last().cloned());
            let binding = binding.filter(|binding| binding != "_" && binding != "*");
            leaves.push((written, binding, span));
        };
        match tree {
            UseTree::Name(it) => leaf(it.ident.to_string(), None, it.ident.span()),
            UseTree::Rename(it) => leaf(it.ident.to_string(), Some(&it.rename), it.ident.span()),
            UseTree::Glob(glob) => leaf("*".to_owned(), None, glob.star_token.spans[0]),
            UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                walk(&path.tree, prefix, leaves);
                prefix.pop();
            }
            UseTree::Group(group) => {
                group
                    .items
                    .iter()
                    .for_each(|tree| walk(tree, prefix, leaves));
            }
        }
    }
    type UseLeaf = (Vec<String>, Option<String>, Span);
    let mut leaves = Vec::new();
    walk(tree, &mut Vec::new(), &mut leaves);
    leaves
}

/// Collects the references of one module's items, leaving nested modules to `load_module`.
struct PathCollector<'a> {
    krate: &'a mut Crate,
    module: &'a ModPath,
    file: &'a str,
}

impl PathCollector<'_> {
    fn record(&mut self, written: Vec<String>, span: Span) {
        let location = format!("{}:{}", self.file, span.start().line);
        let from = self.module.clone();
        self.krate.references.push(Reference {
            from,
            written,
            location,
        });
    }

    fn record_path(&mut self, path: &syn::Path) {
        let written: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let relative = matches!(written[0].as_str(), "crate" | "self" | "super");
        if path.leading_colon.is_none() && written.len() > 1 && relative {
            self.record(written, path.segments[0].ident.span());
        }
    }
}

impl<'ast> Visit<'ast> for PathCollector<'_> {
    fn visit_item(&mut self, item: &'ast Item) {
        if !is_test_only(item) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        if !is_test_only(item) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_trait_item(&mut self, item: &'ast syn::TraitItem) {
        if !is_test_only(item) {
            visit::visit_trait_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {}

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_none() {
            for (written, _, span) in flatten_use(&item.tree) {
                self.record(written, span);
            }
        }
    }

    /// `pub(crate)` and `pub(in crate::x)` say who may look, not what the module needs.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.record_path(path);
        visit::visit_path(self, path);
    }

    /// Macro arguments are only tokens to `syn`; paths in them are found by their shape.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        paths_in_tokens(mac.tokens.clone())
            .iter()
            .for_each(|path| self.record_path(path));
    }
}

/// The `crate::`, `self::` and `super::` paths in raw tokens, such as a macro's arguments.
fn paths_in_tokens(tokens: TokenStream) -> Vec<syn::Path> {
    let mut paths = Vec::new();
    let scan = |input: ParseStream<'_>| {
        while !input.is_empty() {
            if input.peek(Token![crate]) || input.peek(Token![self]) || input.peek(Token![super]) {
                paths.extend(input.call(syn::Path::parse_mod_style).ok());
            } else if let TokenTree::Group(group) = input.parse()? {
                paths.extend(paths_in_tokens(group.stream()));
            }
        }
        Ok(())
    };
    let _ = scan.parse2(tokens);
    paths
}

/// Lifts an edge between two modules to `(ancestor, (child from, child to))` under their lowest
/// common ancestor, or `None` when one module contains the other.
fn lift(from: &ModPath, to: &ModPath) -> Option<(ModPath, (String, String))> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let edge = (from.get(common)?.clone(), to.get(common)?.clone());
    Some((from[..common].to_vec(), edge))
}

/// The simple cycles of a sibling graph, each once, from its first module in name order.
///
/// Each search only steps to modules that can lead back to its start, so it finds cycles as
/// fast as it walks; sibling graphs are small, and at most `MAX_CYCLES` are listed.
fn cycles(graph: &SiblingGraph) -> Vec<Vec<String>> {
    let mut cycles = Vec::new();
    for start in graph.keys().map(|(from, _)| from).collect::<BTreeSet<_>>() {
        let (mut leads_back, mut stack) = (BTreeSet::from([start]), vec![start]);
        while let Some(node) = stack.pop() {
            let steps_back = graph
                .keys()
                .filter(|(from, to)| to == node && from >= start);
            for (from, _) in steps_back {
                if leads_back.insert(from) {
                    stack.push(from);
                }
            }
        }
        let mut paths = vec![vec![start.clone()]];
        while let Some(path) = paths.pop().filter(|_| cycles.len() < MAX_CYCLES) {
            let last = path.last().expect("a path starts with a module");
            let steps = graph
                .keys()
                .filter(|(from, to)| from == last && leads_back.contains(to));
            for (_, to) in steps {
                let mut longer = path.clone();
                longer.push(to.clone());
                if to == start {
                    cycles.push(longer);
                } else if !path.contains(to) {
                    paths.push(longer);
                }
            }
        }
    }
    cycles.sort_by_key(Vec::len);
    cycles
}

/// Describes one cycle: the modules on it, then the references that make each of its edges.
fn describe(src: &str, parent: &ModPath, graph: &SiblingGraph, cycle: &[String]) -> String {
    let name = |module: &String| show(&child(parent, module));
    let modules: Vec<String> = cycle.iter().map(name).collect();
    let mut report = format!("{src}: {}\n", modules.join(" -> "));
    for step in cycle.windows(2) {
        report += &format!("  {} -> {}:\n", name(&step[0]), name(&step[1]));
        for reference in &graph[&(step[0].clone(), step[1].clone())] {
            report += &format!("    {reference}\n");
        }
    }
    report
}

#[test]
fn modules_do_not_import_each_other() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = ["lag-bot/src", "lag-sim/src"];
    let cycles: Vec<String> = sources
        .iter()
        .flat_map(|src| find_cycles(workspace, src))
        .collect();
    assert!(
        cycles.is_empty(),
        "{} import cycle(s) between modules. References between two modules should go one way: \
         move what one side uses so that the references listed in one direction go away.\n\n{}",
        cycles.len(),
        cycles.join("\n")
    );
}

/// A crate written under the temporary directory from `//- file` sections, removed when dropped.
struct TempCrate(PathBuf);

impl TempCrate {
    fn new(name: &str, files: &str) -> Self {
        let unique = format!("lag-bot-architecture-{}-{name}", std::process::id());
        let root = std::env::temp_dir().join(unique);
        for section in files.split("//- ").skip(1) {
            let (file, text) = section
                .split_once('\n')
                .expect("a file name, then its text");
            let path = root.join(file);
            fs::create_dir_all(path.parent().expect("a file has a directory")).unwrap();
            fs::write(path, text).unwrap();
        }
        TempCrate(root)
    }
}

impl Drop for TempCrate {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `a` uses `b`, `c::d` uses `a`, inline module `e` uses `c` and `b` uses `c` only in its tests.
const ACYCLIC: &str = "
//- src/lib.rs
mod a;
mod b;
mod c;
mod e {
    fn f(_: crate::c::Inner) {}
}
//- src/a.rs
pub fn make() {
    crate::b::helper();
}
//- src/b.rs
pub fn helper() {}
#[cfg(test)]
mod tests {
    use crate::c::Inner;
}
//- src/c/mod.rs
mod d;
pub use d::Inner;
//- src/c/d.rs
pub struct Inner;
pub fn f() {
    super::super::a::make();
}
";

#[test]
fn checker_accepts_a_crate_without_cycles() {
    let krate = TempCrate::new("acyclic", ACYCLIC);
    assert_eq!(find_cycles(&krate.0, "src"), Vec::<String>::new());
}

#[test]
fn checker_reports_a_cycle_made_through_a_macro_and_a_re_export() {
    let b_uses_c = "pub fn helper() {\n    println!(\"{:?}\", crate::c::Inner);\n}";
    let krate = TempCrate::new("cyclic", &ACYCLIC.replace("pub fn helper() {}", b_uses_c));
    let cycles = find_cycles(&krate.0, "src");
    let expected = "\
src: crate::a -> crate::b -> crate::c -> crate::a
  crate::a -> crate::b:
    src/a.rs:2: crate::b::helper (resolves to crate::b)
  crate::b -> crate::c:
    src/b.rs:2: crate::c::Inner (resolves to crate::c::d)
  crate::c -> crate::a:
    src/c/d.rs:3: super::super::a::make (resolves to crate::a)
";
    assert_eq!(cycles, [expected]);
}
